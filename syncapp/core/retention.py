"""Old rows are deleted after RETENTION_DAYS: run log lines, finished django-q2 tasks, and webhook
deliveries. Run by `manage.py prune` and the daily schedule (migration core 0003).

Kept for ever, on purpose:
- payments and their events (`sync.PaymentEvent`): a payment's events are its audit trail (when
  it was sent, as which Procore payment, who retried or ignored it); they grow with the number of
  payments, a few rows each, not with time, since a run writes an event only when a payment's
  state changes;
- the runs themselves (one row each, the run history) and the audit log (`core.AuditEntry`);
- everything of a run that is not finished (queued, running, or paused until a rate limit
  resets): its lines are still being written or read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.utils import timezone

from syncapp.core.conf import CoreConf


@dataclass(frozen=True)
class Prunable:
    label: str  # "app_label.Model"
    date_field: str  # the row's age
    keep: Q = field(default_factory=Q)  # rows never deleted, however old
    app: str = ""  # an optional app: skipped (not imported) unless installed


def _unfinished_runs() -> Q:
    return Q(run__state__in=("queued", "running", "paused"))


PRUNABLE = [
    Prunable("sync.RunLogLine", "at", keep=_unfinished_runs()),
    # django-q2 writes a Task row when a task ends (Success and Failure are views of it); queued
    # tasks live in OrmQ or Redis and are never touched here.
    Prunable("django_q.Task", "stopped"),
    # An event waits for a run to take its bill; once taken, it is only a record (Xero retries a
    # delivery for 24 hours at most, so an old one is never needed to spot a repeat).
    Prunable("webhooks.XeroWebhookEvent", "received_at", keep=Q(consumed_at__isnull=True), app="syncapp.webhooks"),
]


def prune(*, days: int | None = None, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete what is older than `days` (RETENTION_DAYS). Returns rows deleted per model label."""
    days = CoreConf.RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted = {}
    for item in PRUNABLE:
        model = _model(item)
        if model is None:
            continue
        old = model.objects.filter(**{f"{item.date_field}__lt": cutoff}).exclude(item.keep)
        deleted[item.label] = _delete_in_batches(old)
    return deleted


def _model(item: Prunable) -> type[models.Model] | None:
    if item.app and not apps.is_installed(item.app):
        return None
    try:
        return apps.get_model(item.label)
    except LookupError:
        return None


BATCH = 5000


def _delete_in_batches(rows: models.QuerySet) -> int:
    """A few thousand rows a statement: a first prune after months must not hold a long lock on
    the table the runs write their log to."""
    total = 0
    while pks := list(rows.values_list("pk", flat=True)[:BATCH]):
        total += rows.model.objects.filter(pk__in=pks).delete()[0]
    return total
