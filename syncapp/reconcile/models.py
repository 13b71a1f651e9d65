"""Reconciliation reports: one row per report, one line per payment on either side, and the totals of
each commitment. A report is a snapshot: it is never updated after it is done, so a downloaded file
and the page always agree.
"""

from django.db import models

from syncapp.connections.models import Integration
from syncapp.core.jobs import BackgroundJob, one_active_per_integration


class ReportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class LineStatus(models.TextChoices):
    """What a line says about one payment. The order here is the order of the summary tiles."""

    MATCHED = "matched", "Matched"
    AMOUNT_DIFFERS = "amount_differs", "Amount differs"
    DATE_DIFFERS = "date_differs", "Date differs"
    MISSING_IN_PROCORE = "missing_in_procore", "Missing in Procore"
    NOT_SENT = "not_sent", "Not sent yet"
    DELETED_IN_XERO = "deleted_in_xero", "Deleted in Xero, still in Procore"
    DUPLICATE = "duplicate", "Duplicated in Procore"
    PROCORE_ONLY = "procore_only", "In Procore only"
    BY_HAND = "by_hand", "Entered by hand in Procore"
    IGNORED = "ignored", "Ignored (kept out of Procore)"


class ReconciliationReport(BackgroundJob):
    """One reconciliation of an integration. At most one queued or running per integration (a
    database constraint), because a build reads every commitment and two would only double the
    Procore calls."""

    class Trigger(models.TextChoices):
        BUTTON = "button", "Reconcile now button"
        COMMAND = "command", "Command line"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="reconciliation_reports")
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.BUTTON)
    state = models.CharField(max_length=20, choices=ReportState.choices, default=ReportState.QUEUED)
    # Who the two sides were when the report was built (for the header of the downloads).
    organisation_name = models.CharField(max_length=255, blank=True)
    company_name = models.CharField(max_length=255, blank=True)
    # The Xero side is our record as of the last sync: when that sync finished.
    xero_as_of = models.DateTimeField(null=True, blank=True)
    commitments_total = models.PositiveIntegerField(default=0)
    commitments_read = models.PositiveIntegerField(default=0)
    api_calls_procore = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)  # line status -> number of lines
    # [{"currency", "xero", "procore", "by_hand", "difference"}] as 2-place strings, one per currency.
    totals = models.JSONField(default=list, blank=True)

    class Meta(BackgroundJob.Meta):
        constraints = [one_active_per_integration("reconcile_one_active_report_per_integration")]


class MissingReason(models.TextChoices):
    """Why a payment Xero made is not in Procore, in our own words (the line's `reason`)."""

    BLOCKED = "blocked", "Blocked"
    FAILED = "failed", "Failed"
    IGNORED = "ignored", "Ignored"
    NOT_YET_RUN = "not_yet_run", "Not yet run"
    REMOVED = "removed", "Removed in Procore"


class ReconciliationLine(models.Model):
    """One payment as each side has it (either side may be missing) and what that means."""

    report = models.ForeignKey(ReconciliationReport, on_delete=models.CASCADE, related_name="lines")
    status = models.CharField(max_length=30, choices=LineStatus.choices)
    xero_payment_id = models.CharField(max_length=64, blank=True)
    procore_payment_id = models.BigIntegerField(null=True, blank=True)
    vendor = models.CharField(max_length=255, blank=True)
    project = models.CharField(max_length=255, blank=True)
    procore_project_id = models.BigIntegerField(null=True, blank=True)
    commitment = models.CharField(max_length=255, blank=True)
    procore_commitment_id = models.BigIntegerField(null=True, blank=True)
    invoice_number = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    xero_date = models.DateField(null=True, blank=True)
    xero_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    procore_date = models.DateField(null=True, blank=True)
    procore_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    # Xero minus Procore, where both sides have an amount.
    difference = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    reason = models.CharField(max_length=20, choices=MissingReason.choices, blank=True)
    payment_id = models.BigIntegerField(null=True, blank=True)  # our Payment row, for its page
    xero_invoice_id = models.CharField(max_length=64, blank=True)
    vendor_id = models.CharField(max_length=64, blank=True)  # the Xero ContactID of the vendor
    bill_total = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    # The day a period is read on: the Xero payment date, or Procore's where Xero has none.
    day = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["report", "day"]),
            models.Index(fields=["report", "status"]),
            models.Index(fields=["report", "vendor"]),
            models.Index(fields=["report", "project"]),
        ]


class CommitmentTotal(models.Model):
    """Per commitment (and currency): paid in Xero (our eligible payments) against the payments
    issued in Procore. `procore` includes `by_hand`, the payments no integration sent."""

    report = models.ForeignKey(ReconciliationReport, on_delete=models.CASCADE, related_name="commitment_totals")
    procore_project_id = models.BigIntegerField(null=True, blank=True)
    project = models.CharField(max_length=255, blank=True)
    procore_commitment_id = models.BigIntegerField(null=True, blank=True)  # None: not matched to one yet
    commitment = models.CharField(max_length=255, blank=True)
    vendor = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    xero = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    procore = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    by_hand = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    difference = models.DecimalField(max_digits=16, decimal_places=2, default=0)  # xero - procore
    lines = models.PositiveIntegerField(default=0)
    problems = models.PositiveIntegerField(default=0)  # lines that are not "matched"
    note = models.CharField(max_length=500, blank=True)  # e.g. Procore could not show it

    class Meta:
        ordering = ["project", "commitment", "id"]
