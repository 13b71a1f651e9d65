"""The sync engine's own rows: local copies of Xero data, links to Procore, payments and runs.

Every payment's state, reason, Procore id, attempts and last error are columns here, so the
dashboard's lists and filters are plain queries. A run's progress, counts and log are rows too.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Exists, Q
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.core.jobs import ACTIVE_STATES, BackgroundJob, one_active_per_integration
from syncapp.core.text import fitted
from syncapp.sync.reasons import WORDS_MAX_LENGTH, Reason


class XeroContactRecord(models.Model):
    """A Xero contact as last fetched (upserted by ContactID)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    contact_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    tax_number = models.CharField(max_length=50, blank=True)
    is_supplier = models.BooleanField(default=False)
    merged_to_contact_id = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "contact_id"], name="sync_contact_unique")]


class XeroBillRecord(models.Model):
    """A Xero supplier bill (ACCPAY invoice) as last fetched (upserted by InvoiceID)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    invoice_id = models.CharField(max_length=64)
    invoice_number = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20)
    contact_id = models.CharField(max_length=64, blank=True)
    contact_name = models.CharField(max_length=255, blank=True)
    currency_code = models.CharField(max_length=3, blank=True)
    date = models.DateField(null=True, blank=True)
    total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    amount_paid = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    # Settled without a Payment row: credit notes, prepayments and overpayments allocated to the
    # bill (Xero's Invoice.AmountCredited and its CreditNotes/Prepayments/Overpayments lists).
    amount_credited = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    allocations = models.JSONField(default=list, blank=True)
    # ["Project: P-1001 Harbour Tower", ...] — tracking options can name the project or commitment.
    tracking = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "invoice_id"], name="sync_bill_unique")]


class LinkHow(models.TextChoices):
    ORIGIN_ID = "origin_id", "Procore record carries the Xero id"
    TAX_NUMBER = "tax_number", "Same tax number"
    NAME_SUGGESTION = "name_suggestion", "Matched by name"
    MANUAL = "manual", "Linked by an Admin"
    CREATED = "created", "Created in Procore from Xero"
    # An Admin took the link away: the contact stays unlinked (no automatic match brings that
    # vendor back) until an Admin links a vendor again.
    UNLINKED = "unlinked", "Unlinked by an Admin"


class VendorLink(models.Model):
    """Xero contact -> Procore vendor. Name matches are stored unconfirmed, as suggestions."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    xero_contact_id = models.CharField(max_length=64)
    contact_name = models.CharField(max_length=255, blank=True)
    procore_vendor_id = models.BigIntegerField()
    vendor_name = models.CharField(max_length=255, blank=True)
    how = models.CharField(max_length=20, choices=LinkHow.choices)
    confirmed = models.BooleanField(default=True)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    linked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "xero_contact_id"], name="sync_vendor_link_unique")
        ]


class BillLink(models.Model):
    """Xero bill -> Procore commitment (and subcontractor invoice), picked by an Admin when the
    automatic match found none or several."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    xero_invoice_id = models.CharField(max_length=64)
    procore_project_id = models.BigIntegerField()
    procore_commitment_id = models.BigIntegerField()
    procore_requisition_id = models.BigIntegerField(null=True, blank=True)
    how = models.CharField(max_length=20, choices=LinkHow.choices, default=LinkHow.MANUAL)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    linked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "xero_invoice_id"], name="sync_bill_link_unique")]


class SyncSettings(models.Model):
    """Per-integration mapping defaults an Admin may change (shown with the mapping in force)."""

    class PaymentMethod(models.TextChoices):
        CHECK = "check", "Cheque"
        CREDIT_CARD = "credit_card", "Credit card"
        ELECTRONIC = "electronic", "Electronic"

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="sync_settings")
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.ELECTRONIC)
    # Payments modified before this date are not fetched on the first run (None: everything).
    start_date = models.DateField(null=True, blank=True)
    # The currency of a Procore company that states none (see sync.company_currency): the Xero
    # organisation's base currency, read on every run, unless an Admin sets another.
    xero_base_currency = models.CharField(max_length=3, blank=True)
    company_currency = models.CharField(max_length=3, blank=True)

    # Scheduled runs: `sync.schedules` keeps one django-q2 Schedule per integration in step with
    # these, and pauses it after `pause_after_failures` failed runs in a row (0: never).
    class ScheduleMode(models.TextChoices):
        OFF = "off", "Off: runs start only when someone starts one"
        EVERY_HOURS = "every_hours", "Every few hours"
        DAILY = "daily", "Daily at a set time"

    schedule = models.CharField(max_length=20, choices=ScheduleMode.choices, default=ScheduleMode.OFF)
    schedule_every_hours = models.PositiveSmallIntegerField(default=6)
    schedule_daily_at = models.TimeField(default=datetime.time(2, 0))  # off-peak
    schedule_timezone = models.CharField(max_length=64, blank=True)  # IANA name; empty: TIME_ZONE
    pause_after_failures = models.PositiveSmallIntegerField(default=3)
    schedule_paused_at = models.DateTimeField(null=True, blank=True)
    schedule_paused_reason = models.CharField(max_length=500, blank=True)
    # Runs that failed before this (the schedule was switched on or resumed) do not count to pause it.
    failures_count_from = models.DateTimeField(null=True, blank=True)


class SyncCursor(models.Model):
    """Durable watermarks (Xero UpdatedDateUTC) per integration; moved only after the rows they
    cover are committed."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="sync_cursor")
    payments_since = models.DateTimeField(null=True, blank=True)
    bills_since = models.DateTimeField(null=True, blank=True)
    contacts_since = models.DateTimeField(null=True, blank=True)


class PaymentState(models.TextChoices):
    NEW = "new", "New"
    BLOCKED = "blocked", "Blocked"
    READY = "ready", "Ready to send"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    REVERSING = "reversing", "Reversing"
    REVERSED = "reversed", "Reversed"
    NEEDS_ATTENTION = "needs_attention", "Reversal needs attention"
    IGNORED = "ignored", "Ignored"
    SKIPPED = "skipped", "Not for Procore"


class PaymentQuerySet(models.QuerySet):
    def transition(
        self, payment: "Payment", *, from_states, to: str, guard: Q | Exists | None = None, **fields
    ) -> bool:
        """The one way a payment changes state: `UPDATE ... WHERE pk AND state IN from_states AND
        guard`, so the check and the write are one statement and two workers (or a worker and an
        Admin) cannot both move the same row. Text fields are cut to their columns; `updated_at`
        is now unless given. Whether the row moved; if it did, `payment` holds what was written
        (fields written as expressions, such as `F("attempts") + 1`, are read back when next read)."""
        rows = self.filter(pk=payment.pk, state__in=from_states)
        if guard is not None:
            rows = rows.filter(guard)
        values = {"state": to, "updated_at": timezone.now(), **fitted(Payment, **fields)}
        if not rows.update(**values):
            return False
        computed = [name for name, value in values.items() if hasattr(value, "resolve_expression")]
        for name, value in values.items():
            if name not in computed:
                setattr(payment, name, value)
        for name in computed:
            payment.__dict__.pop(name, None)  # deferred: read back from the row when next read
        return True


class Payment(models.Model):
    """One Xero payment and what became of it in Procore."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    xero_payment_id = models.CharField(max_length=64)
    # Copied from Xero at fetch time (FK-free, so list pages filter with plain queries).
    payment_type = models.CharField(max_length=30)
    xero_status = models.CharField(max_length=20)
    date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    currency_code = models.CharField(max_length=3, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    batch_payment_id = models.CharField(max_length=64, blank=True)
    xero_invoice_id = models.CharField(max_length=64, blank=True)
    invoice_number = models.CharField(max_length=255, blank=True)
    xero_contact_id = models.CharField(max_length=64, blank=True)
    vendor_name = models.CharField(max_length=255, blank=True)
    xero_updated_at = models.DateTimeField(null=True, blank=True)
    # Where it goes in Procore (filled by resolve).
    procore_vendor_id = models.BigIntegerField(null=True, blank=True)
    procore_project_id = models.BigIntegerField(null=True, blank=True)
    project_name = models.CharField(max_length=255, blank=True)
    procore_commitment_id = models.BigIntegerField(null=True, blank=True)
    commitment_number = models.CharField(max_length=100, blank=True)
    procore_requisition_id = models.BigIntegerField(null=True, blank=True)
    # What became of it.
    state = models.CharField(max_length=20, choices=PaymentState.choices, default=PaymentState.NEW)
    # Why it is blocked, failed or set aside: a code of the catalogue (`syncapp.sync.reasons`), the
    # payment's specifics its templates name, and the words made from them (kept on the row, as
    # the lists, searches, exports and reports read them).
    reason_code = models.CharField(max_length=40, blank=True, choices=Reason.choices)
    reason_params = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=WORDS_MAX_LENGTH, blank=True)
    fix = models.CharField(max_length=WORDS_MAX_LENGTH, blank=True)
    procore_payment_id = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=1000, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The run that marked it "sending" (or "reversing"). Another run may take the row over only
    # once that run is no longer running, so a run declared dead cannot race the next one.
    claimed_by_run = models.ForeignKey(
        "SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "xero_payment_id"], name="sync_payment_unique"),
        ]
        indexes = [
            models.Index(fields=["integration", "state", "reason_code"]),
            # The payments list's default order (newest first, id breaks ties) pages off this index.
            models.Index(fields=["integration", "date", "id"], name="sync_payment_int_date_id"),
            # Search by exact invoice number / reference (the prefix search has its own PostgreSQL
            # index on UPPER(...), created in migration 0003).
            models.Index(fields=["integration", "invoice_number"], name="sync_payment_int_invoice"),
            models.Index(fields=["integration", "reference"], name="sync_payment_int_reference"),
            models.Index(fields=["integration", "xero_invoice_id"]),
            models.Index(fields=["integration", "procore_commitment_id"]),
            models.Index(fields=["integration", "vendor_name"]),
        ]


class PaymentEventManager(models.Manager):
    def build(self, payment: Payment, kind: str, message: str, *, run=None, actor=None) -> "PaymentEvent":
        """An unsaved event, its texts cut to their columns: for `bulk_create` of many."""
        return self.model(payment=payment, run=run, actor=actor, **fitted(self.model, kind=kind, message=message))

    def record(self, payment: Payment, kind: str, message: str, *, run=None, actor=None) -> "PaymentEvent":
        """Write one line of the payment's history (saved one by one, so `pre_save` sees it)."""
        event = self.build(payment, kind, message, run=run, actor=actor)
        event.save()
        return event


class PaymentEvent(models.Model):
    """A line of a payment's history: fetched, blocked because…, sent as #id, retried by whom."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=30)
    message = models.CharField(max_length=1000)
    run = models.ForeignKey("SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    objects = PaymentEventManager()

    class Meta:
        ordering = ["at", "id"]


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Failed"
    PAUSED = "paused", "Paused"
    # A scheduled run that did not start because another was active or waiting for a rate limit.
    SKIPPED = "skipped", "Skipped"


ACTIVE_RUN_STATES = ACTIVE_STATES  # a run is active as every background job is


class SyncRun(BackgroundJob):
    """One Get All Payments run. At most one queued or running per integration (a database
    constraint, not only a check)."""

    class Trigger(models.TextChoices):
        BUTTON = "button", "Get All Payments button"
        COMMAND = "command", "Command line"
        SCHEDULE = "schedule", "Scheduled"
        RESUME = "resume", "Resumed"
        WEBHOOK = "webhook", "Xero webhook"
        RECHECK = "recheck", "Re-check of chosen payments"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    resumes = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    dry_run = models.BooleanField(default=False)
    since = models.DateField(null=True, blank=True)
    # A targeted run (Xero webhook) handles only these bills' payments and leaves the watermark
    # where it is; empty: every payment changed since the watermark.
    bill_ids = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=20, choices=RunState.choices, default=RunState.QUEUED)
    phase = models.CharField(max_length=20, blank=True)  # fetch | resolve | send | reversals
    paused_until = models.DateTimeField(null=True, blank=True)
    # Progress for the bar: payments handled out of those to handle in the current phase.
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)  # outcome -> number (sent, blocked, failed, ...)
    api_calls_xero = models.PositiveIntegerField(default=0)
    api_calls_procore = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)  # 429 answers received
    # The process executing the run ("host pid N"), for the run page and its log.
    worker = models.CharField(max_length=200, blank=True)
    # The worker holds the run's PostgreSQL advisory lock for as long as its process lives
    # (sync.lease): once the lock is free, the run is known dead at once instead of after minutes.
    worker_lock = models.BooleanField(default=False)
    # Set right before each write to Procore to when that write is surely over (HTTP_TIMEOUT on):
    # a run whose process died is not declared dead before it, so the next run's re-read of
    # Procore cannot miss a payment the dead worker's last request may still be creating.
    write_until = models.DateTimeField(null=True, blank=True)

    class Meta(BackgroundJob.Meta):
        constraints = [one_active_per_integration("sync_one_active_run_per_integration")]


class RunLogLine(models.Model):
    """A line of a run's log, for people (the dashboard tails it with ?after=<id>)."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="log_lines")
    at = models.DateTimeField(auto_now_add=True)
    level = models.CharField(max_length=10, default="info")  # info | warning | error
    message = models.CharField(max_length=1000)

    class Meta:
        ordering = ["id"]


class ProcoreObjectKind(models.TextChoices):
    PROJECT = "project"
    VENDOR = "vendor"
    COMMITMENT = "commitment"
    REQUISITION = "requisition"
    REFUSAL = "refusal"  # a project Procore refused to show (403), until a read of it succeeds


class ProcoreObject(models.Model):
    """What Procore last told us about one object, kept between runs so that a run reads only
    what changed (`procore_store`). `data` holds the connector's typed object as JSON."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ProcoreObjectKind.choices)
    procore_id = models.BigIntegerField()
    project_id = models.BigIntegerField(null=True, blank=True)  # commitments, invoices, refusals
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "kind", "procore_id"], name="sync_procore_object_unique")
        ]
        indexes = [models.Index(fields=["integration", "kind", "project_id"], name="sync_procore_object_project")]


class ProcoreReadMark(models.Model):
    """When a Procore list was last read in full, and from when its changes are still to read.
    `project_id` 0 is the company's lists (projects, vendors) and the sweep of every project."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    project_id = models.BigIntegerField(default=0)
    full_at = models.DateTimeField()
    changes_from = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "kind", "project_id"], name="sync_procore_read_mark_unique")
        ]
