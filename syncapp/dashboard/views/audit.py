"""Audit log (Admins): who did what and when, filtered by date range, user and action."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from syncapp.core.roles import admin_required
from syncapp.dashboard import audit_log
from syncapp.dashboard.forms import AuditFilterForm
from syncapp.dashboard.views.common import pager

PER_PAGE = 50


def list_filters(request: HttpRequest) -> tuple[AuditFilterForm, dict, audit_log.AuditFilters]:
    """The filters from the URL (the page and its downloads read them here, so they agree)."""
    form = AuditFilterForm(request.GET)
    chosen = form.cleaned_or_empty()
    return form, chosen, audit_log.AuditFilters(**chosen)


@admin_required
def audit_log_page(request: HttpRequest) -> HttpResponse:
    form, chosen, filters = list_filters(request)
    page = Paginator(audit_log.entries(filters=filters), PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboard/audit.html",
        {
            "entries": audit_log.describe(list(page.object_list)),
            "pager": pager(request, page),
            "form": form,
            "filtered": bool(chosen),
            "actions": audit_log.action_choices(),
            "users": audit_log.user_choices(),
            "query": query.urlencode(),
            "clear_url": reverse("audit"),
        },
    )
