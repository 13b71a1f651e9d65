"""Who an alert goes to, which payments a run newly blocked or failed, and what a day of runs did
(the daily summary for Finance)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum

from syncapp.connections.models import Integration
from syncapp.core.roles import ADMIN, FINANCE
from syncapp.sync.models import Payment, PaymentEvent, PaymentState, RunState, SyncRun

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
    still there now that it ended (`newly_stuck`)."""
    return newly_stuck(SyncRun.objects.filter(pk=run.pk))


def newly_stuck(runs: QuerySet[SyncRun]) -> QuerySet[Payment]:
    """Payments these runs moved into blocked, failed or "reversal needs attention", and that are
    still there now.

    "New" is read from each payment's history: one of these runs wrote a problem event for it, and
    the event before the first such one was not a problem event. So a payment blocked by an earlier
    run and only re-checked (or blocked again for another reason) is not new; one an Admin retried,
    or ignored and un-ignored, since its last problem, is.
    """
    in_runs = PaymentEvent.objects.filter(payment=OuterRef("pk"), run__in=runs, kind__in=PROBLEM_EVENTS)
    first_in_runs = in_runs.order_by("id").values("id")[:1]
    before = (
        PaymentEvent.objects.filter(payment=OuterRef("pk"), id__lt=OuterRef("first_problem"))
        .order_by("-id")
        .values("kind")[:1]
    )
    touched = PaymentEvent.objects.filter(run__in=runs, kind__in=PROBLEM_EVENTS).values("payment_id")
    return (
        # From these runs' events (indexed by run), not from every stuck payment of the integration.
        Payment.objects.filter(pk__in=touched, state__in=PROBLEM_STATES)
        .annotate(first_problem=Subquery(first_in_runs))
        .annotate(kind_before=Subquery(before))
        .filter(Q(kind_before__isnull=True) | ~Q(kind_before__in=PROBLEM_EVENTS))
        .order_by("state", "vendor_name", "id")
    )


# --- the daily summary for Finance ---------------------------------------------------------------


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str  # "" when Xero gave none
    count: int
    total: Decimal


@dataclass(frozen=True)
class DaySummary:
    """What happened to one integration's payments between `start` and `end`: the runs that ended
    in that time (dry runs and skipped schedule ticks left out) and what those runs did."""

    start: dt.datetime
    end: dt.datetime
    runs: int
    by_trigger: list[tuple[str, int]]  # (trigger label, runs), most first
    failed_runs: list[SyncRun]
    sent: list[CurrencyTotal]  # recorded in Procore, per currency (never added across currencies)
    already_in_procore: int  # of those, found already there (an earlier unanswered attempt)
    reversed: list[CurrencyTotal]
    newly_stuck: int
    still_stuck: int  # now, whatever run put them there

    @property
    def sent_count(self) -> int:
        return sum(t.count for t in self.sent)

    @property
    def reversed_count(self) -> int:
        return sum(t.count for t in self.reversed)

    @property
    def has_news(self) -> bool:
        """Nothing recorded in or removed from Procore, nothing newly stuck and no failed run: a day
        of runs that only re-checked the payments still blocked is no news, and mails nothing."""
        return bool(self.sent or self.reversed or self.newly_stuck or self.failed_runs)


# The outcomes a run ends with that it did not merely start (`RunState.SKIPPED` never ran).
SUMMARISED_RUN_STATES = (RunState.SUCCEEDED, RunState.FAILED, RunState.PAUSED)


def _per_currency(runs: QuerySet[SyncRun], kind: str) -> list[CurrencyTotal]:
    # One row per payment however many such events it has, so no amount is counted twice.
    touched = PaymentEvent.objects.filter(run__in=runs, kind=kind).values("payment_id")
    rows = (
        Payment.objects.filter(pk__in=touched)
        .values("currency_code")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("currency_code")
    )
    return [CurrencyTotal(r["currency_code"], r["n"], r["total"] or Decimal("0")) for r in rows]


def day_summary(*, integration: Integration, start: dt.datetime, end: dt.datetime) -> DaySummary:
    """The summary of the runs of `integration` that ended in [start, end)."""
    runs = SyncRun.objects.filter(
        integration=integration,
        dry_run=False,
        state__in=SUMMARISED_RUN_STATES,
        finished_at__gte=start,
        finished_at__lt=end,
    )
    labels = dict(SyncRun.Trigger.choices)
    rows = list(runs.values_list("trigger", "counts"))  # one query for both
    triggers = Counter(trigger for trigger, _ in rows)
    already = sum(int((counts or {}).get("already_in_procore") or 0) for _, counts in rows)
    return DaySummary(
        start=start,
        end=end,
        runs=sum(triggers.values()),
        by_trigger=[(labels.get(t, t), n) for t, n in sorted(triggers.items(), key=lambda item: (-item[1], item[0]))],
        failed_runs=list(runs.filter(state=RunState.FAILED).order_by("finished_at", "id")),
        sent=_per_currency(runs, "sent"),
        already_in_procore=already,
        reversed=_per_currency(runs, "reversed"),
        newly_stuck=newly_stuck(runs).count(),
        still_stuck=Payment.objects.filter(integration=integration, state__in=PROBLEM_STATES).count(),
    )
