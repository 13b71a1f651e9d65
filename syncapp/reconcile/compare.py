"""The comparison itself: our record of Xero payments against the payments Procore holds on the
commitments we sync, into lines with one status each, and totals per commitment.

Pure functions over typed inputs (local `Payment` rows, `ProcorePayment`s per commitment): no
database writes and no HTTP here, so every rule can be read in one place.

Every line carries `difference` = what counts on the Xero side minus what Procore holds, so the
lines of a commitment add up to its difference: a not-sent payment adds its amount, a payment
entered by hand in Procore subtracts its amount, a matched one adds nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from syncapp.connectors.types import ProcorePayment
from syncapp.core.text import fit
from syncapp.reconcile.models import CommitmentTotal, LineStatus, MissingReason, ReconciliationLine
from syncapp.sync.models import Payment, PaymentState
from syncapp.sync.reasons import Reason

ZERO = Decimal("0.00")
CENTS = Decimal("0.01")
BILL_PAYMENT = "ACCPAYPAYMENT"
# Xero ids are UUIDs: a Procore origin_id of that shape was written by a Xero integration.
XERO_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# Payments that are waiting for the sync (or a person) before they reach Procore.
WAITING_STATES = (
    PaymentState.NEW,
    PaymentState.BLOCKED,
    PaymentState.READY,
    PaymentState.SENDING,
    PaymentState.FAILED,
)
WAITING_REASONS = {PaymentState.BLOCKED: MissingReason.BLOCKED, PaymentState.FAILED: MissingReason.FAILED}


@dataclass(frozen=True)
class CommitmentKey:
    project_id: int
    commitment_id: int


@dataclass
class CommitmentRead:
    """What a fresh read of one commitment gave: its payments, or why Procore would not show them."""

    key: CommitmentKey
    payments: list[ProcorePayment] = field(default_factory=list)
    error: str = ""


@dataclass
class Line:
    status: str
    xero_payment_id: str = ""
    procore_payment_id: int | None = None
    vendor: str = ""
    project: str = ""
    procore_project_id: int | None = None
    commitment: str = ""
    procore_commitment_id: int | None = None
    invoice_number: str = ""
    currency: str = ""
    xero_date: dt.date | None = None
    xero_amount: Decimal | None = None
    procore_date: dt.date | None = None
    procore_amount: Decimal | None = None
    difference: Decimal = ZERO
    note: str = ""
    counts_in_xero: bool = False  # whether xero_amount is part of "paid in Xero"
    reason: str = ""  # MissingReason, for a payment Xero made that Procore does not have
    payment_id: int | None = None  # our Payment row
    xero_invoice_id: str = ""
    vendor_id: str = ""  # Xero ContactID
    bill_total: Decimal | None = None

    @property
    def day(self) -> dt.date | None:
        """The date a period is read on: Xero's payment date, Procore's where Xero has none."""
        return self.xero_date or self.procore_date


@dataclass
class Totals:
    project_id: int | None
    project: str
    commitment_id: int | None
    commitment: str
    vendor: str
    currency: str
    xero: Decimal = ZERO
    procore: Decimal = ZERO
    by_hand: Decimal = ZERO
    lines: int = 0
    problems: int = 0
    note: str = ""

    @property
    def difference(self) -> Decimal:
        return (self.xero - self.procore).quantize(CENTS)


@dataclass
class Comparison:
    lines: list[Line]
    totals: list[Totals]

    def counts(self) -> dict[str, int]:
        found = Counter(line.status for line in self.lines)
        return {status: found[status] for status in LineStatus.values if found[status]}

    def currency_totals(self) -> list[dict[str, str]]:
        """One row per currency: paid in Xero, issued in Procore (and of it, by hand), difference."""
        sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"xero": ZERO, "procore": ZERO, "by_hand": ZERO})
        for row in self.totals:
            entry = sums[row.currency]
            entry["xero"] += row.xero
            entry["procore"] += row.procore
            entry["by_hand"] += row.by_hand
        return [
            {
                "currency": currency,
                "xero": f"{entry['xero']:.2f}",
                "procore": f"{entry['procore']:.2f}",
                "by_hand": f"{entry['by_hand']:.2f}",
                "difference": f"{entry['xero'] - entry['procore']:.2f}",
            }
            for currency, entry in sorted(sums.items())
        ]


def money(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENTS)


def scope_of(payments: Iterable[Payment], extra: Iterable[CommitmentKey] = ()) -> list[CommitmentKey]:
    """The commitments the integration has sent to or matched: every commitment a payment points at,
    plus the ones an Admin linked a bill to."""
    keys = {
        CommitmentKey(p.procore_project_id, p.procore_commitment_id)
        for p in payments
        if p.procore_commitment_id is not None and p.procore_project_id is not None
    }
    keys.update(extra)
    return sorted(keys, key=lambda k: (k.project_id, k.commitment_id))


def compare(
    *, payments: list[Payment], reads: list[CommitmentRead], bill_totals: dict[str, Decimal] | None = None
) -> Comparison:
    """Lines for every eligible local payment and every Procore payment on the commitments read.
    `bill_totals` (Xero InvoiceID -> bill total) fills each line's bill total where known."""
    labels = _labels(payments)
    lines, claimed = _local_lines(payments, reads)
    lines += _unclaimed_lines(reads, claimed, labels, ours={payment.xero_payment_id: payment for payment in payments})
    if bill_totals:
        for line in lines:
            if line.xero_invoice_id:
                line.bill_total = bill_totals.get(line.xero_invoice_id)
    return Comparison(lines=lines, totals=_totals(lines, reads, labels))


Found = tuple[CommitmentKey, ProcorePayment]


def _local_lines(payments: list[Payment], reads: list[CommitmentRead]) -> tuple[list[Line], set[int]]:
    """A line for each local payment there is something to reconcile about, and the ids of the
    Procore payments they claim."""
    by_origin: dict[str, Found] = {}
    by_id: dict[int, Found] = {}
    for read in reads:
        for remote in read.payments:
            by_id[remote.id] = (read.key, remote)
            if remote.origin_id:
                by_origin.setdefault(remote.origin_id, (read.key, remote))
    errors = {read.key.commitment_id: read.error for read in reads if read.error}
    claimed: set[int] = set()
    lines: list[Line] = []
    for payment in payments:
        found = by_origin.get(payment.xero_payment_id) or _by_recorded_id(payment, by_id)
        if found is not None:
            claimed.add(found[1].id)
        line = _local_line(payment, found, errors)
        if line is not None:
            lines.append(line)
    return lines, claimed


def _by_recorded_id(payment: Payment, by_id: dict[int, Found]) -> Found | None:
    """The Procore payment we recorded sending, for when Procore no longer shows our origin id on it."""
    if payment.procore_payment_id is None:
        return None
    candidate = by_id.get(payment.procore_payment_id)
    # Only our own id: a hand-entered payment with another origin is not ours to claim.
    if candidate is not None and candidate[1].origin_id in ("", payment.xero_payment_id):
        return candidate
    return None


def _unclaimed_lines(
    reads: list[CommitmentRead], claimed: set[int], labels: dict[int, dict], ours: dict[str, Payment]
) -> list[Line]:
    """A line for each Procore payment no local payment claims: a duplicate, or one we never sent."""
    originals = _originals(reads, claimed)
    lines = []
    for read in reads:
        for remote in read.payments:
            if remote.id in claimed:
                continue
            original = originals.get(remote.id)
            if original is not None:
                lines.append(_duplicate_line(read.key, remote, original, labels, ours))
            else:
                lines.append(_procore_only_line(read.key, remote, labels))
    return lines


def _originals(reads: list[CommitmentRead], claimed: set[int]) -> dict[int, ProcorePayment]:
    """Procore payments that repeat another one: the same origin_id, or the same invoice number, amount
    and date on the same commitment. Maps each repeat to the one it repeats (the one a payment of ours
    claims, else the first Procore created); a repeat nobody claims is a duplicate, not a stranger."""
    groups: dict[tuple, list[ProcorePayment]] = defaultdict(list)
    for read in reads:
        for remote in read.payments:
            if remote.origin_id:
                groups[("origin", remote.origin_id)].append(remote)
            if remote.invoice_number:  # e.g. one we sent, entered again by hand
                key = ("bill", read.key.commitment_id, remote.invoice_number, remote.amount, remote.date)
                groups[key].append(remote)
    originals: dict[int, ProcorePayment] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        first = next((m for m in members if m.id in claimed), None) or min(members, key=lambda m: m.id)
        for member in members:
            if member.id != first.id and member.id not in claimed:
                originals[member.id] = first
    return originals


# --- one local payment -------------------------------------------------------------------------------


def _local_line(
    payment: Payment, found: tuple[CommitmentKey, ProcorePayment] | None, errors: dict[int, str]
) -> Line | None:
    deleted = payment.xero_status == "DELETED"
    if found is not None:
        key, remote = found
        if deleted:
            return _deleted_line(payment, key, remote)
        return _compared_line(payment, key, remote)
    if deleted or payment.payment_type != BILL_PAYMENT or payment.state == PaymentState.SKIPPED:
        return None  # not for Procore, or deleted and gone from Procore: nothing to reconcile
    if payment.state == PaymentState.IGNORED:
        line = _line(payment, LineStatus.IGNORED, note=payment.message or "Ignored by an Admin.", counts=False)
        line.reason = MissingReason.IGNORED
        return line
    if payment.state in WAITING_STATES:
        line = _line(payment, LineStatus.NOT_SENT, note=_waiting_reason(payment), counts=True)
        line.reason = WAITING_REASONS.get(payment.state, MissingReason.NOT_YET_RUN)
        return line
    # Sent (or reversed while Xero still has it): we recorded it in Procore, Procore has it no longer.
    note = f"Sent as Procore payment #{payment.procore_payment_id}; Procore no longer has it (deleted by hand?)."
    if payment.procore_commitment_id in errors:
        note = f"Procore could not show this commitment: {errors[payment.procore_commitment_id]}"
    line = _line(payment, LineStatus.MISSING_IN_PROCORE, note=note, counts=True)
    line.reason = MissingReason.REMOVED
    return line


def _waiting_reason(payment: Payment) -> str:
    label = payment.get_state_display()
    reason = payment.message or payment.last_error
    return f"{label}: {reason}" if reason else f"{label}: waiting for the next sync run."


def _compared_line(payment: Payment, key: CommitmentKey, remote: ProcorePayment) -> Line:
    amount = money(payment.amount) or ZERO
    notes = []
    if amount != remote.amount:
        status = LineStatus.AMOUNT_DIFFERS
        notes.append(f"Xero {amount:,.2f}, Procore {remote.amount:,.2f}.")
        if payment.date != remote.date:
            notes.append(f"The dates differ too ({_day(payment.date)} in Xero, {_day(remote.date)} in Procore).")
    elif payment.date != remote.date:
        status = LineStatus.DATE_DIFFERS
        notes.append(f"Paid {_day(payment.date)} in Xero, {_day(remote.date)} in Procore.")
    else:
        status = LineStatus.MATCHED
    if payment.state != PaymentState.SENT:
        notes.append(f"Recorded here as {payment.get_state_display().lower()}; Procore has it.")
    if key.commitment_id != payment.procore_commitment_id and payment.procore_commitment_id is not None:
        notes.append("Procore holds it on another commitment than the one recorded here.")
    line = _line(payment, status, note=" ".join(notes), counts=True, key=key)
    line.procore_payment_id = remote.id
    line.procore_date = remote.date
    line.procore_amount = remote.amount
    line.difference = (amount - remote.amount).quantize(CENTS)
    return line


def _deleted_line(payment: Payment, key: CommitmentKey, remote: ProcorePayment) -> Line:
    if payment.state == PaymentState.NEEDS_ATTENTION:
        # A reversal Procore refused (its documented default for a synced payment): the steps for a
        # person, as on the payment's page.
        note = f"Procore refused the delete. {payment.fix or payment.message or payment.last_error}".strip()
    elif payment.state in (PaymentState.SENT, PaymentState.REVERSING):
        note = "The reversal is pending: the next sync run deletes it in Procore."
    else:
        note = f"Recorded here as {payment.get_state_display().lower()}; delete it in Procore by hand."
    line = _line(payment, LineStatus.DELETED_IN_XERO, note=note, counts=False, key=key)
    line.procore_payment_id = remote.id
    line.procore_date = remote.date
    line.procore_amount = remote.amount
    line.difference = -remote.amount
    return line


def _line(payment: Payment, status: str, *, note: str, counts: bool, key: CommitmentKey | None = None) -> Line:
    amount = money(payment.amount)
    return Line(
        status=status,
        xero_payment_id=payment.xero_payment_id,
        procore_payment_id=payment.procore_payment_id,
        vendor=payment.vendor_name,
        project=payment.project_name,
        procore_project_id=key.project_id if key else payment.procore_project_id,
        commitment=payment.commitment_number,
        procore_commitment_id=key.commitment_id if key else payment.procore_commitment_id,
        invoice_number=payment.invoice_number,
        currency=payment.currency_code,
        xero_date=payment.date,
        xero_amount=amount,
        difference=(amount or ZERO) if counts else ZERO,
        note=fit(ReconciliationLine, "note", note),
        counts_in_xero=counts,
        payment_id=payment.pk,
        xero_invoice_id=payment.xero_invoice_id,
        vendor_id=payment.xero_contact_id,
    )


# --- a Procore payment nobody here claims ------------------------------------------------------------


def _procore_only_line(key: CommitmentKey, remote: ProcorePayment, labels: dict[int, dict]) -> Line:
    label = labels.get(key.commitment_id, {})
    if remote.origin_id and XERO_ID.match(remote.origin_id):
        status = LineStatus.PROCORE_ONLY
        note = f"Carries Xero payment id {remote.origin_id}, which this integration has no record of."
    else:
        status = LineStatus.BY_HAND
        note = "Entered in Procore, not by this integration."
        if remote.origin_id:
            note = f"Belongs to another system (origin id {remote.origin_id[:60]})."
    return Line(
        status=status,
        xero_payment_id=remote.origin_id if status == LineStatus.PROCORE_ONLY else "",
        procore_payment_id=remote.id,
        vendor=label.get("vendor", ""),
        project=label.get("project", ""),
        procore_project_id=key.project_id,
        commitment=label.get("commitment") or f"#{key.commitment_id}",
        procore_commitment_id=key.commitment_id,
        invoice_number=remote.invoice_number,
        currency=label.get("currency", ""),
        procore_date=remote.date,
        procore_amount=remote.amount,
        difference=-remote.amount,
        note=fit(ReconciliationLine, "note", note),
        vendor_id=label.get("vendor_id", ""),
    )


def _duplicate_line(
    key: CommitmentKey,
    remote: ProcorePayment,
    original: ProcorePayment,
    labels: dict[int, dict],
    ours: dict[str, Payment],
) -> Line:
    if remote.origin_id:
        note = f"Procore holds Xero payment {remote.origin_id} twice: this one and #{original.id}."
    else:
        note = f"Same invoice, amount and date as Procore payment #{original.id}."
    line = _procore_only_line(key, remote, labels)
    line.status = LineStatus.DUPLICATE
    line.note = fit(ReconciliationLine, "note", note)
    payment = ours.get(remote.origin_id) if remote.origin_id else None
    if payment is not None:  # name it as the payment it repeats
        line.xero_payment_id = payment.xero_payment_id
        line.payment_id = payment.pk
        line.vendor = payment.vendor_name or line.vendor
        line.vendor_id = payment.xero_contact_id or line.vendor_id
        line.xero_invoice_id = payment.xero_invoice_id
        line.invoice_number = line.invoice_number or payment.invoice_number
        line.currency = payment.currency_code or line.currency
    return line


# --- totals per commitment ---------------------------------------------------------------------------


def _totals(lines: list[Line], reads: list[CommitmentRead], labels: dict[int, dict]) -> list[Totals]:
    rows: dict[tuple[int | None, str], Totals] = {}

    def row(line: Line) -> Totals:
        key = (line.procore_commitment_id, line.currency)
        if key not in rows:
            if line.procore_commitment_id is None:  # the payments not matched yet, of many vendors
                rows[key] = Totals(None, "", None, "", "", line.currency)
            else:
                label = labels.get(line.procore_commitment_id, {})
                rows[key] = Totals(
                    project_id=line.procore_project_id,
                    project=label.get("project", line.project),
                    commitment_id=line.procore_commitment_id,
                    commitment=label.get("commitment", line.commitment),
                    vendor=label.get("vendor", line.vendor),
                    currency=line.currency,
                )
        return rows[key]

    for line in lines:
        entry = row(line)
        entry.lines += 1
        entry.problems += line.status != LineStatus.MATCHED
        if line.counts_in_xero and line.xero_amount is not None:
            entry.xero += line.xero_amount
        if line.procore_amount is not None:
            entry.procore += line.procore_amount
            if line.status == LineStatus.BY_HAND:
                entry.by_hand += line.procore_amount
    with_lines = {commitment_id for commitment_id, _ in rows}
    for read in reads:  # a commitment with no line at all still shows, at zero, that it was read
        if read.key.commitment_id not in with_lines:
            label = labels.get(read.key.commitment_id, {})
            rows[(read.key.commitment_id, label.get("currency", ""))] = Totals(
                project_id=read.key.project_id,
                project=label.get("project", ""),
                commitment_id=read.key.commitment_id,
                commitment=label.get("commitment") or f"#{read.key.commitment_id}",
                vendor=label.get("vendor", ""),
                currency=label.get("currency", ""),
            )
    errors = {read.key.commitment_id: read.error for read in reads if read.error}
    for (commitment_id, _), entry in rows.items():
        if commitment_id in errors:
            entry.note = fit(
                CommitmentTotal, "note", f"Procore could not show this commitment: {errors[commitment_id]}"
            )
        elif commitment_id is None:
            entry.note = "Payments not matched to a Procore commitment yet."
    return sorted(rows.values(), key=lambda t: (t.commitment_id is None, t.project, t.commitment, t.currency))


def _labels(payments: list[Payment]) -> dict[int, dict]:
    """Names for each commitment from our payments on it: project, number, vendor, and its currency
    (the most common one, leaving out bills refused for a currency mismatch)."""
    seen: dict[int, dict] = {}
    currencies: dict[int, Counter] = defaultdict(Counter)
    for payment in payments:
        commitment_id = payment.procore_commitment_id
        if commitment_id is None:
            continue
        entry = seen.setdefault(commitment_id, {"project": "", "commitment": "", "vendor": "", "vendor_id": ""})
        entry["project"] = entry["project"] or payment.project_name
        entry["commitment"] = entry["commitment"] or payment.commitment_number
        entry["vendor"] = entry["vendor"] or payment.vendor_name
        entry["vendor_id"] = entry["vendor_id"] or payment.xero_contact_id
        if payment.currency_code and payment.reason_code != Reason.CURRENCY_MISMATCH:
            currencies[commitment_id][payment.currency_code] += 1
    for commitment_id, entry in seen.items():
        common = currencies[commitment_id].most_common(1)
        entry["currency"] = common[0][0] if common else ""
        entry["commitment"] = entry["commitment"] or f"#{commitment_id}"
    return seen


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else "no date"
