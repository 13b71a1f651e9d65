"""Audit log (Admins): who did what and when."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from syncapp.core.roles import admin_required
from syncapp.dashboard import selectors
from syncapp.dashboard.views.common import pager

PER_PAGE = 50


@admin_required
def audit_log(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "")
    page = Paginator(selectors.audit_entries(action=action), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/audit.html",
        {
            "entries": page.object_list,
            "pager": pager(request, page),
            "actions": selectors.audit_actions(),
            "action": action,
        },
    )
