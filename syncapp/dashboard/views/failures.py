"""Failure queue (Admins): blocked and failed payments grouped by reason; retry one or a whole
group, ignore with a reason. Single-payment actions post to the payment's own action URLs."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from syncapp.core.roles import admin_required
from syncapp.dashboard import selectors
from syncapp.dashboard.views.common import page_integration
from syncapp.sync import services
from syncapp.sync.models import Payment, PaymentState
from syncapp.sync.reasons import BILL_REASONS, VENDOR_REASONS
from syncapp.sync.services import ActionRefused

# A group retry touches at most this many payments per click (each one is an event and an audit row).
GROUP_RETRY_LIMIT = 1000


@admin_required
def failure_queue(request: HttpRequest) -> HttpResponse:
    integrations, integration = page_integration(request)
    groups = selectors.failure_groups(integration=integration)
    for group in groups:
        group.fix_where = (
            "mappings"
            if group.reason_code in VENDOR_REASONS
            else "mapping-bills"
            if group.reason_code in BILL_REASONS
            else ""
        )
    return render(
        request,
        "dashboard/failures.html",
        {
            "integrations": integrations,
            "integration": integration,
            "groups": groups,
            "total": sum(g.count for g in groups),
        },
    )


@require_POST
@admin_required
def retry_group(request: HttpRequest) -> HttpResponse:
    """Retry every failed payment that failed for one reason."""
    integrations, integration = page_integration(request)
    reason = request.POST.get("reason_code", "")
    payments = Payment.objects.filter(integration=integration, state=PaymentState.FAILED, reason_code=reason).order_by(
        "id"
    )[:GROUP_RETRY_LIMIT]
    retried = 0
    for payment in payments:
        try:
            services.retry_payment(payment=payment, actor=request.user)
        except ActionRefused:
            continue  # it changed state since the page was drawn; nothing to retry
        retried += 1
    messages.success(request, f"Queued {retried} payment{'s' if retried != 1 else ''} again for the next run.")
    url = reverse("failures")
    return redirect(f"{url}?integration={integration.name}" if integration and len(integrations) > 1 else url)
