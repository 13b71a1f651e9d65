"""Requests that no page of ours can answer are refused here, once, before any view runs."""

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse


def _holds_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    # POST only when it is a form: the sandbox's JSON APIs read their bodies themselves.
    form = request.POST if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data") else {}
    return any(
        "\x00" in key or any("\x00" in value for value in data.getlist(key))
        for data in (request.GET, form)
        if data
        for key in data
    ) or any("\x00" in key or "\x00" in value for key, value in request.COOKIES.items())


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
        if _holds_nul(request):
            raise BadRequest("The request holds a NUL character.")
        return self.get_response(request)
