"""Sandbox stand-ins for Procore's web pages, so "open in Procore" links from the dashboard land
somewhere useful (a commitment with its invoices and payments issued), and a control endpoint
that resets the rate-limit counters of a sandbox running in another process (benchmarks)."""

from decimal import Decimal

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from syncapp.sandbox.procore.models import Commitment
from syncapp.sandbox.procore.ratelimit import reset_rate_limits


@login_not_required
def commitment_page(request: HttpRequest, project_id: int, commitment_id: int) -> HttpResponse:
    commitment = get_object_or_404(
        Commitment.objects.select_related("project__company", "vendor"), pk=commitment_id, project_id=project_id
    )
    payments = list(commitment.payments.order_by("date", "created_at"))
    context = {
        "commitment": commitment,
        "project": commitment.project,
        "requisitions": commitment.requisitions.order_by("number"),
        "payments": payments,
        "total_paid": sum((p.amount for p in payments), Decimal("0.00")),
    }
    return render(request, "sandbox/procore/commitment.html", context)


@login_not_required
@csrf_exempt
@require_POST
def reset_limits(request: HttpRequest) -> JsonResponse:
    """POST: forget every rate-limit counter of this server process (the sandbox only)."""
    reset_rate_limits()
    return JsonResponse({"reset": True})
