"""The alerts page (Admins only): who is mailed about what, the daily summary for Finance switch per
integration (with when it goes out), and the alerts sent lately with their outcome."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from syncapp.alerts import selectors, services
from syncapp.alerts.models import AlertSent, AlertSettings
from syncapp.connections.models import Integration
from syncapp.core.roles import admin_required

RECENT_ALERTS = 20


@require_http_methods(["GET", "POST"])
@admin_required
def alert_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        integration = Integration.objects.filter(name=request.POST.get("integration", "")).first()
        if integration is None:
            raise Http404("No such integration.")
        enabled = request.POST.get("finance_summary") == "on"
        services.set_finance_summary(integration=integration, enabled=enabled, actor=request.user)
        state = "on" if enabled else "off"
        messages.success(request, f"Daily summary for Finance {state} for {integration.display_name}.")
        return redirect("alert-settings")
    integrations = list(Integration.objects.order_by("name"))
    chosen = set(AlertSettings.objects.filter(finance_summary=True).values_list("integration_id", flat=True))
    return render(
        request,
        "alerts/settings.html",
        {
            "rows": [
                {"integration": i, "finance_summary": i.pk in chosen, "zone": services.summary_zone(i)}
                for i in integrations
            ],
            "summary_at": services.SUMMARY_AT,
            "admin_emails": selectors.admin_emails(),
            "finance_emails": selectors.finance_emails(),
            "recent": AlertSent.objects.select_related("integration")[:RECENT_ALERTS],
        },
    )
