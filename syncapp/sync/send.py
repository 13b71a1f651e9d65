"""Ready payments -> Procore contract payments, exactly once; sent payments deleted in Xero ->
deleted in Procore (or flagged for a person).

Exactly once, without an idempotency header: the payment's Xero PaymentID is the Procore
payment's origin_id. Before creating, the commitment's existing payments are read (once per
commitment per run) and matched by origin_id. The row is marked "sending" before the POST and
the outcome is written after it, so a crash in between leaves a "sending" row, which the next
run treats like a ready one: the fresh read of the commitment finds it if the POST went through.
After an ambiguous failure (timeout, 5xx, reset) the commitment is re-read before any retry.
"""

from __future__ import annotations

import logging
import random
import time
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from syncapp.connectors.types import (
    ConnectorError,
    DataError,
    NeedsReconnect,
    NewContractPayment,
    NotFound,
    ProcorePayment,
    RateLimited,
    TransientError,
)
from syncapp.sync import crashpoints
from syncapp.sync.models import Payment, PaymentEvent, PaymentState, SyncSettings, XeroBillRecord
from syncapp.sync.procore_index import ProcoreIndex
from syncapp.sync.progress import RunContext

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
_CENTS = Decimal("0.01")
DRY_RUN_LOG_LINES = 200  # a dry run lists this many payments one by one, then only counts


def _backoff(attempt: int) -> float:
    base = getattr(settings, "SYNC_RETRY_BASE_SECONDS", 0.5)
    return min(30.0, base * 2 ** (attempt - 1)) * (0.5 + random.random())  # full jitter, half to 1.5x


class GaveUp(Exception):
    def __init__(self, error: ConnectorError):
        super().__init__(error.message)
        self.error = error


# --- sending ----------------------------------------------------------------------------------------


def send_ready(*, ctx: RunContext, procore, index: ProcoreIndex) -> None:
    integration = ctx.run.integration
    # "sending" rows were left by a run that died mid-send: they are reconciled like ready ones.
    payments = list(
        Payment.objects.filter(integration=integration, state__in=[PaymentState.READY, PaymentState.SENDING])
        .exclude(xero_status="DELETED")
        .order_by("procore_commitment_id", "date", "id")
    )
    ctx.phase("send", total=len(payments))
    if not payments:
        return
    method = (
        SyncSettings.objects.filter(integration=integration).values_list("payment_method", flat=True).first()
        or SyncSettings.PaymentMethod.ELECTRONIC
    )
    bills = {
        b.invoice_id: b
        for b in XeroBillRecord.objects.filter(
            integration=integration, invoice_id__in={p.xero_invoice_id for p in payments}
        )
    }
    listed = 0
    for payment in payments:
        body = build_contract_payment(payment, bill=bills.get(payment.xero_invoice_id), payment_method=method)
        if ctx.dry_run:
            listed += _dry_run_one(ctx, index, payment, body, listed)
        else:
            _send_one(ctx, procore, index, payment, body)
        ctx.advance()
    if ctx.dry_run:
        ctx.log(
            f"Dry run: {ctx.counts['would_send']} payments would be sent to Procore, "
            f"{ctx.counts['already_in_procore']} are there already"
        )


def build_contract_payment(payment: Payment, *, bill: XeroBillRecord | None, payment_method: str) -> NewContractPayment:
    """The field mapping in force (domain.md 4.6)."""
    batch = f", batch {payment.batch_payment_id}" if payment.batch_payment_id else ""
    return NewContractPayment(
        project_id=payment.procore_project_id,
        commitment_id=payment.procore_commitment_id,
        date=payment.date,
        amount=payment.amount.quantize(_CENTS),
        origin_id=payment.xero_payment_id,
        invoice_number=(bill.invoice_number if bill and bill.invoice_number else payment.invoice_number)[:255],
        invoice_date=bill.date if bill else None,
        check_number=payment.reference[:50],
        payment_method=payment_method,
        notes=f"Xero payment {payment.xero_payment_id}{batch}"[:255],
        origin_data=f"xero_payment_id={payment.xero_payment_id};xero_invoice_id={payment.xero_invoice_id};"
        f"updated={payment.xero_updated_at.isoformat() if payment.xero_updated_at else ''}",
        requisition_id=payment.procore_requisition_id,
    )


def _dry_run_one(ctx: RunContext, index: ProcoreIndex, payment: Payment, body: NewContractPayment, listed: int) -> int:
    existing = _existing(ctx, index, payment)
    if existing is not None:
        ctx.count("already_in_procore")
        return 0
    ctx.count("would_send")
    if listed < DRY_RUN_LOG_LINES:
        ctx.log(
            f"Would send {body.amount:,.2f} paid {body.date:%Y-%m-%d} on invoice {body.invoice_number!r} "
            f"to {payment.commitment_number or payment.procore_commitment_id} (Xero payment {payment.xero_payment_id})"
        )
        return 1
    return 0


def _existing(ctx: RunContext, index: ProcoreIndex, payment: Payment) -> ProcorePayment | None:
    payments = index.payments_on(project_id=payment.procore_project_id, commitment_id=payment.procore_commitment_id)
    return payments.get(payment.xero_payment_id)


def _send_one(ctx: RunContext, procore, index: ProcoreIndex, payment: Payment, body: NewContractPayment) -> None:
    try:
        existing = _read_existing_with_retry(ctx, index, payment)
    except GaveUp as exc:
        _fail(ctx, payment, exc.error.message, kind="failed")
        return
    except DataError as exc:
        _fail(ctx, payment, f"Procore refused to show the commitment's payments: {exc.message}", kind="failed")
        return
    if existing is not None:
        _mark_sent(ctx, payment, existing, already=True)
        return
    if not _claim(payment):
        return  # an Admin ignored it meanwhile
    crashpoints.reached("before_create")
    try:
        created = _create_with_retry(ctx, procore, index, payment, body)
    except NeedsReconnect:
        Payment.objects.filter(pk=payment.pk, state=PaymentState.SENDING).update(state=PaymentState.READY)
        raise
    except GaveUp as exc:
        _fail(ctx, payment, exc.error.message, kind="failed")
        return
    except DataError as exc:
        _fail(ctx, payment, f"Procore refused the payment: {exc.message}", kind="failed")
        return
    crashpoints.reached("after_create")
    index.remember_payment(commitment_id=payment.procore_commitment_id, payment=created)
    _mark_sent(ctx, payment, created, already=False)


def _read_existing_with_retry(ctx: RunContext, index: ProcoreIndex, payment: Payment) -> ProcorePayment | None:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return _existing(ctx, index, payment)
        except (TransientError, RateLimited) as exc:
            if attempt == MAX_ATTEMPTS:
                raise GaveUp(exc) from exc
            _wait(ctx, exc, attempt)
    return None


def _create_with_retry(
    ctx: RunContext, procore, index: ProcoreIndex, payment: Payment, body: NewContractPayment
) -> ProcorePayment:
    reread = False
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if reread:
            # The last POST may have been applied: look before posting again.
            try:
                found = index.reload_payments(project_id=body.project_id, commitment_id=body.commitment_id)
            except (TransientError, RateLimited) as exc:
                if attempt == MAX_ATTEMPTS:
                    raise GaveUp(exc) from exc
                _wait(ctx, exc, attempt)
                continue
            if body.origin_id in found:
                _event(ctx, payment, "reconciled", "Found in Procore after an unanswered attempt: not sent again")
                return found[body.origin_id]
            reread = False
        try:
            return procore.create_contract_payment(body)
        except TransientError as exc:
            reread = reread or exc.ambiguous
            Payment.objects.filter(pk=payment.pk).update(last_error=exc.message[:1000])
            if attempt == MAX_ATTEMPTS:
                raise GaveUp(exc) from exc
            _wait(ctx, exc, attempt)
        except RateLimited as exc:  # a 429 was not applied: wait as told, post again
            if attempt == MAX_ATTEMPTS:
                raise GaveUp(exc) from exc
            _wait(ctx, exc, attempt)
    raise AssertionError("unreachable")


def _wait(ctx: RunContext, exc: ConnectorError, attempt: int) -> None:
    delay = exc.retry_after if isinstance(exc, RateLimited) else _backoff(attempt)
    ctx.beat()
    time.sleep(delay)


def _claim(payment: Payment) -> bool:
    """ready/sending -> sending, counting the attempt, before the remote call."""
    claimed = Payment.objects.filter(pk=payment.pk, state__in=[PaymentState.READY, PaymentState.SENDING]).update(
        state=PaymentState.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    return bool(claimed)


def _mark_sent(ctx: RunContext, payment: Payment, remote: ProcorePayment, *, already: bool) -> None:
    now = timezone.now()
    updated = Payment.objects.filter(pk=payment.pk, state__in=[PaymentState.READY, PaymentState.SENDING]).update(
        state=PaymentState.SENT,
        procore_payment_id=remote.id,
        sent_at=now,
        reason_code="",
        message="",
        fix="",
        last_error="",
        updated_at=now,
    )
    if not updated:
        return
    if already:
        ctx.count("already_in_procore")
        _event(ctx, payment, "sent", f"Already in Procore as payment #{remote.id} (matched by Xero payment id)")
    else:
        ctx.count("sent")
        _event(ctx, payment, "sent", f"Sent to Procore as payment #{remote.id}")


def _fail(ctx: RunContext, payment: Payment, message: str, *, kind: str) -> None:
    Payment.objects.filter(pk=payment.pk, state__in=[PaymentState.READY, PaymentState.SENDING]).update(
        state=PaymentState.FAILED,
        reason_code="procore_refused" if kind == "failed" else kind,
        message=message[:500],
        fix="Correct the cause, then retry the payment.",
        last_error=message[:1000],
        updated_at=timezone.now(),
    )
    ctx.count("failed")
    _event(ctx, payment, "failed", f"Failed because {message}")
    ctx.log(f"Payment {payment.xero_payment_id} failed: {message}", level="warning")


def _event(ctx: RunContext | None, payment: Payment, kind: str, message: str, actor=None) -> None:
    PaymentEvent.objects.create(
        payment=payment, kind=kind, message=message[:1000], run=ctx.run if ctx else None, actor=actor
    )


# --- reversals -------------------------------------------------------------------------------------


def reverse_deleted(*, ctx: RunContext, procore) -> None:
    """Sent payments that are now deleted in Xero are deleted in Procore."""
    payments = list(
        Payment.objects.filter(
            integration=ctx.run.integration,
            xero_status="DELETED",
            state__in=[PaymentState.SENT, PaymentState.REVERSING],
        ).order_by("id")
    )
    if not payments:
        return
    ctx.phase("reversals", total=len(payments))
    for payment in payments:
        if ctx.dry_run:
            ctx.count("would_reverse")
            ctx.log(f"Would delete Procore payment #{payment.procore_payment_id} (deleted in Xero)")
        else:
            _reverse_one(ctx, procore, payment)
        ctx.advance()


def _reverse_one(ctx: RunContext, procore, payment: Payment) -> None:
    claimed = Payment.objects.filter(pk=payment.pk, state__in=[PaymentState.SENT, PaymentState.REVERSING]).update(
        state=PaymentState.REVERSING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        return
    last: ConnectorError | None = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            procore.delete_contract_payment(
                payment.procore_payment_id,
                project_id=payment.procore_project_id,
                commitment_id=payment.procore_commitment_id,
            )
        except NotFound:
            break  # already gone: the reversal's goal holds
        except DataError as exc:
            _needs_attention(ctx, payment, exc.message)
            return
        except (TransientError, RateLimited) as exc:
            last = exc
            if attempt < MAX_ATTEMPTS:
                _wait(ctx, exc, attempt)
            continue
        else:
            break
    else:
        # Could not reach Procore: keep it "sent" so the next run tries again.
        message = last.message if last else "unknown error"
        Payment.objects.filter(pk=payment.pk).update(
            state=PaymentState.SENT, last_error=f"Reversal not done yet: {message}"[:1000]
        )
        _event(ctx, payment, "reversal_retry", f"Could not delete it in Procore yet ({message}); will try again")
        ctx.count("reversal_pending")
        return
    Payment.objects.filter(pk=payment.pk).update(
        state=PaymentState.REVERSED, reason_code="", message="", fix="", last_error="", updated_at=timezone.now()
    )
    ctx.count("reversed")
    _event(ctx, payment, "reversed", f"Deleted in Xero, so Procore payment #{payment.procore_payment_id} was deleted")


def _needs_attention(ctx: RunContext, payment: Payment, reason: str) -> None:
    where = payment.commitment_number or f"commitment #{payment.procore_commitment_id}"
    fix = (
        f"Delete payment #{payment.procore_payment_id} ({payment.amount:,.2f} on {payment.date:%Y-%m-%d}) from "
        f"{where} in Procore by hand, then mark the reversal done here."
    )
    Payment.objects.filter(pk=payment.pk).update(
        state=PaymentState.NEEDS_ATTENTION,
        reason_code="reversal_refused",
        message=f"The payment was deleted in Xero, but Procore refused to delete it: {reason}"[:500],
        fix=fix[:500],
        last_error=reason[:1000],
        updated_at=timezone.now(),
    )
    ctx.count("needs_attention")
    _event(ctx, payment, "needs_attention", f"Reversal needs attention: Procore refused to delete it ({reason})")
    ctx.log(f"Reversal of Xero payment {payment.xero_payment_id} needs attention: {reason}", level="warning")
