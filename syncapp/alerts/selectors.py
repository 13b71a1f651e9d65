"""Who an alert goes to, and which payments a run newly blocked or failed."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Q, QuerySet, Subquery

from syncapp.core.roles import ADMIN, FINANCE
from syncapp.sync.models import Payment, PaymentEvent, PaymentState, SyncRun

# A payment's state that needs a person, and the event kind a run writes when it puts it there
# (resolve: "blocked"; send: "failed"; a refused reversal: "needs_attention").
PROBLEM_STATES = (PaymentState.BLOCKED, PaymentState.FAILED, PaymentState.NEEDS_ATTENTION)
PROBLEM_EVENTS = ("blocked", "failed", "needs_attention")


def _emails(users: QuerySet) -> list[str]:
    return sorted({email for email in users.filter(is_active=True).exclude(email="").values_list("email", flat=True)})


def admin_emails() -> list[str]:
    """Active Admins (superusers count as Admins, as in core.roles) that have an email address."""
    users = get_user_model().objects.filter(Q(is_superuser=True) | Q(groups__name=ADMIN))
    return _emails(users)


def finance_emails() -> list[str]:
    return _emails(get_user_model().objects.filter(groups__name=FINANCE))


def new_problem_payments(run: SyncRun) -> QuerySet[Payment]:
    """Payments this run moved into blocked, failed or "reversal needs attention", and that are
    still there now that it ended.

    "New" is read from each payment's history: this run wrote a problem event for it, and the
    event before that one was not a problem event. So a payment blocked by an earlier run and only
    re-checked (or blocked again for another reason) is not new; one an Admin retried, or ignored
    and un-ignored, since its last problem, is.
    """
    in_run = PaymentEvent.objects.filter(payment=OuterRef("pk"), run=run, kind__in=PROBLEM_EVENTS)
    first_in_run = in_run.order_by("id").values("id")[:1]
    before = (
        PaymentEvent.objects.filter(payment=OuterRef("pk"), id__lt=OuterRef("first_problem"))
        .order_by("-id")
        .values("kind")[:1]
    )
    touched = PaymentEvent.objects.filter(run=run, kind__in=PROBLEM_EVENTS).values("payment_id")
    return (
        # From this run's events (indexed by run), not from every stuck payment of the integration.
        Payment.objects.filter(pk__in=touched, state__in=PROBLEM_STATES)
        .annotate(first_problem=Subquery(first_in_run))
        .annotate(kind_before=Subquery(before))
        .filter(Q(kind_before__isnull=True) | ~Q(kind_before__in=PROBLEM_EVENTS))
        .order_by("state", "vendor_name", "id")
    )
