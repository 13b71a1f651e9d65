"""Sandbox stand-ins for Procore's web pages, so "open in Procore" links from the dashboard land
somewhere useful: a commitment with its invoices and payments issued."""

from decimal import Decimal

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from syncapp.sandbox.procore.models import Commitment


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
