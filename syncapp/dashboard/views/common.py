"""Helpers every dashboard view shares: which integration a page shows, and htmx answers.

Which integration: the one named in the URL or form (?integration=<name>) wins and is remembered
in the session; without one, the session's choice; else the first. A page about one object (a
payment, a run, a report) shows that object's integration and remembers it too, so the switcher
and the links from there stay on it.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from syncapp.connections.models import Integration
from syncapp.dashboard import selectors

# htmx stops polling when an answer has this status (see htmx docs, "Stopping polling").
HTMX_STOP_POLLING = 286


SESSION_KEY = "integration"  # the pk of the integration last chosen (a rename does not lose it)


def page_integration(request: HttpRequest) -> tuple[list[Integration], Integration | None]:
    integrations = selectors.list_integrations()
    name = request.POST.get("integration") or request.GET.get("integration")
    if name:
        integration = selectors.pick_integration(name=name, integrations=integrations)
        if integration is None:
            raise Http404(f"No integration named {name!r}.")
    else:
        integration = _remembered(request, integrations)
    show_integration(request, integration, integrations=integrations)
    return integrations, integration


def show_integration(
    request: HttpRequest, integration: Integration | None, *, integrations: list[Integration] | None = None
) -> None:
    """This page shows `integration`: the switcher says so and the session remembers it."""
    request.shown_integration = integration
    if integrations is not None:
        request.integrations = integrations
    if integration is not None and hasattr(request, "session") and request.session.get(SESSION_KEY) != integration.pk:
        request.session[SESSION_KEY] = integration.pk


def chosen_integration(request: HttpRequest) -> tuple[list[Integration], Integration | None]:
    """For pages that did not call page_integration (the switcher on every page): the same choice,
    but an unknown name in the URL falls back instead of raising."""
    integrations = getattr(request, "integrations", None)
    if integrations is None:
        integrations = request.integrations = selectors.list_integrations()
    if hasattr(request, "shown_integration"):
        return integrations, request.shown_integration
    name = request.GET.get("integration")
    integration = selectors.pick_integration(name=name, integrations=integrations) if name else None
    if integration is not None:  # switched on a page of its own (Integrations, Audit): remember it
        show_integration(request, integration)
    return integrations, integration or _remembered(request, integrations)


def _remembered(request: HttpRequest, integrations: list[Integration]) -> Integration | None:
    return remembered_integration(request, integrations) or (integrations[0] if integrations else None)


def remembered_integration(request: HttpRequest, integrations: list[Integration] | None = None) -> Integration | None:
    """The integration this session chose last (None when it chose none, or it was removed)."""
    pk = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if pk is None:
        return None
    if integrations is None:
        return Integration.objects.filter(pk=pk).first()
    return next((i for i in integrations if i.pk == pk), None)


def stop_polling(response: HttpResponse) -> HttpResponse:
    response.status_code = HTMX_STOP_POLLING
    return response


def pager(request: HttpRequest, page) -> dict | None:
    """Previous/next links for a Django Paginator page, keeping the other query parameters."""
    if page.paginator.num_pages <= 1:
        return None

    def url(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        return f"?{params.urlencode()}"

    return {
        "summary": f"Page {page.number} of {page.paginator.num_pages}",
        "prev_url": url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page.next_page_number()) if page.has_next() else "",
    }
