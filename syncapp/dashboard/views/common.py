"""Helpers every dashboard view shares: which integration a page shows, and htmx answers."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from syncapp.connections.models import Integration
from syncapp.dashboard import selectors

# htmx stops polling when an answer has this status (see htmx docs, "Stopping polling").
HTMX_STOP_POLLING = 286


def page_integration(request: HttpRequest) -> tuple[list[Integration], Integration | None]:
    integrations = selectors.list_integrations()
    name = request.POST.get("integration") or request.GET.get("integration")
    integration = selectors.pick_integration(name=name, integrations=integrations)
    if name and integration is None:
        raise Http404(f"No integration named {name!r}.")
    return integrations, integration


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
