"""Requests that no page of ours can answer are refused here, once, before any view runs."""

from collections.abc import Iterator

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, QueryDict

NUL = "\x00"
# Only forms are read here: the sandbox's JSON APIs read their bodies themselves.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _texts(request: HttpRequest) -> Iterator[str]:
    """The path, and every name and value of the query, the posted form and the cookies."""
    yield request.path
    # Keep the raw body readable after request.POST is parsed: a view that checks a signature
    # over the exact bytes (the Xero webhook) reads request.body, which Django refuses once the
    # stream has been consumed by the form parser.
    request.body  # noqa: B018
    sources = [request.GET, request.POST if request.content_type in FORM_TYPES else QueryDict()]
    for data in sources:
        for name, values in data.lists():
            yield name
            yield from values
    for name, value in request.COOKIES.items():
        yield name
        yield value


class RejectNulBytesMiddleware:
    """A NUL byte in the address, a form field or a cookie is a 400 Bad Request.

    No person types one and no field of ours may hold one, while PostgreSQL refuses any text that
    contains it: a filter, a search, a posted id or a session cookie with %00 would otherwise end
    in a database error (500) deep inside whichever view or middleware read it first. One check
    here covers every view, present and future, instead of a guard in each.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any(NUL in text for text in _texts(request)):
            raise BadRequest("The request holds a NUL character.")
        return self.get_response(request)
