"""Writing the audit log, and what its action codes say to people.

Call `record` from services, inside the transaction of the change. Every action code recorded
anywhere has a label in ACTION_LABELS: the audit page, its filter and its exports show labels."""

from syncapp.core.models import AuditEntry
from syncapp.core.text import fit

ACTION_LABELS = {
    "sync.started": "Sync started",
    "payment.retried": "Payment retried",
    "payment.ignored": "Payment ignored",
    "payment.unignored": "Payment un-ignored",
    "payment.reversal_done": "Reversal done by hand",
    "payment.reversal_retried": "Reversal retried",
    "vendor.linked": "Vendor linked",
    "vendor.created": "Vendor created in Procore",
    "vendor.confirmed": "Vendor match confirmed",
    "vendor.suggestion_rejected": "Vendor match rejected",
    "vendor.unlinked": "Vendor unlinked",
    "bill.linked": "Bill linked to a commitment",
    "settings.changed": "Settings changed",
    "schedule.changed": "Schedule changed",
    "schedule.paused": "Schedule paused",
    "schedule.resumed": "Schedule resumed",
    "alerts.finance_summary": "Finance run summary switched",
    "connection.connected": "Connected",
    "connection.reconnected": "Reconnected",
    "connection.tenant_chosen": "Organisation or company chosen",
    "connection.tested": "Connection tested",
    "connection.disconnected": "Disconnected",
    "connection.needs_reconnect": "Connection needs reconnecting",
    "integration.added": "Integration added",
    "integration.renamed": "Integration renamed",
    "integration.removed": "Integration removed",
    "reconciliation.started": "Reconciliation started",
    "reconciliation.downloaded": "Reconciliation downloaded",
    "payments.downloaded": "Payments list downloaded",
    "failures.downloaded": "Failure queue downloaded",
    "audit.downloaded": "Audit log downloaded",
}


def action_label(action: str) -> str:
    """The label of an action code; an unknown code still reads as words ("foo.bar_baz" -> "Foo bar baz")."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    words = action.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def record(*, action: str, summary: str, actor=None, integration=None, **details) -> AuditEntry:
    """Note that `actor` (a user, or None for the system) did `action`. Details must hold no secret."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEntry.objects.create(
        action=action,
        summary=fit(AuditEntry, "summary", summary),
        actor=actor,
        integration=integration,
        details=details,
    )
