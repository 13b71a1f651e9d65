"""Ready payments -> Procore contract payments, exactly once; sent payments deleted in Xero ->
deleted in Procore (or flagged for a person).

Exactly once, without an idempotency header: the payment's Xero PaymentID is the Procore
payment's origin_id. Before creating, the commitment's existing payments are read (once per
commitment per run) and matched by origin_id. The row is marked "sending" before the POST and
the outcome is written after it, so a crash in between leaves a "sending" row, which the next
run treats like a ready one: the fresh read of the commitment finds it if the POST went through.
After an ambiguous failure (timeout, 5xx, reset) the commitment is re-read before any retry, and
a 409 "origin_id taken" is answered the same way: it proves the payment is there already.

Runs never race: a row is claimed for one run (`claimed_by_run`), another run takes it over only
once that run is no longer running, and right before every write to Procore the run renews its
lease (a conditional heartbeat), so a run declared dead stops before it can post again.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db.models import Exists, F, Q
from django.utils import timezone

from syncapp.connectors import retries
from syncapp.connectors.procore import CHECK_NUMBER_MAX
from syncapp.connectors.protocols import ProcoreApi
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
from syncapp.core.logcontext import log_context
from syncapp.core.text import fit
from syncapp.sync import crashpoints
from syncapp.sync.conf import SyncConf
from syncapp.sync.models import (
    ACTIVE_RUN_STATES,
    Payment,
    PaymentEvent,
    PaymentState,
    RunState,
    SyncRun,
    SyncSettings,
    XeroBillRecord,
)
from syncapp.sync.outcomes import ALREADY_IN_PROCORE_EVENT
from syncapp.sync.procore_index import ProcoreIndex
from syncapp.sync.progress import RunContext
from syncapp.sync.reasons import Reason, no_reason

logger = logging.getLogger(__name__)

MAX_UNANSWERED_ROUNDS = 5
# No answer (timeout, reset), or a gateway's instead of Procore's (502, 504: the request may still
# be at work behind it). Any other answer, even a 500, means Procore is done with the request.
UNANSWERED_STATUSES = (None, 502, 504)
UNSENT_STATES = (PaymentState.READY, PaymentState.SENDING)
_CENTS = Decimal("0.01")
DRY_RUN_LOG_LINES = 200  # a dry run lists this many payments one by one, then only counts


class GaveUp(Exception):
    def __init__(self, error: ConnectorError):
        super().__init__(error.message)
        self.error = error


class LostClaim(Exception):
    """The row is no longer this run's to send (an Admin ignored it, or it was taken over)."""


class Unanswered(Exception):
    """Procore did not answer a create itself (timeout, reset, a 502/504 from its gateway): it may
    still be carried out."""


def _settle_after() -> dt.timedelta:
    """How long after our client gave up on a create Procore may still carry it out: looking for it
    sooner, and posting again when it is not there yet, is how a slow Procore would get it twice."""
    return dt.timedelta(seconds=SyncConf.SYNC_UNANSWERED_SETTLE_SECONDS)


def _ours(ctx: RunContext) -> Q:
    """Rows this run may write: unclaimed, claimed by it, or claimed by a run that is over."""
    return Q(claimed_by_run__isnull=True) | Q(claimed_by_run=ctx.run) | ~Q(claimed_by_run__state__in=ACTIVE_RUN_STATES)


def _run_is_running(ctx: RunContext) -> Exists:
    return Exists(SyncRun.objects.filter(pk=ctx.run.pk, state=RunState.RUNNING))


# --- sending ----------------------------------------------------------------------------------------


def send_ready(*, ctx: RunContext, procore: ProcoreApi, index: ProcoreIndex) -> None:
    integration = ctx.run.integration
    # "sending" rows were left by a run that died mid-send: they are reconciled like ready ones.
    payments = list(
        Payment.objects.filter(integration=integration, state__in=UNSENT_STATES)
        .filter(_ours(ctx))
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
    unanswered: list[tuple[Payment, NewContractPayment, dt.datetime]] = []
    for payment in payments:
        with log_context(payment_id=payment.pk):
            body = build_contract_payment(payment, bill=bills.get(payment.xero_invoice_id), payment_method=method)
            if ctx.dry_run:
                listed += _dry_run_one(ctx, index, payment, body, listed)
            elif _may_still_land(payment):
                unanswered.append((payment, body, payment.updated_at))
            elif _send_one(ctx, procore, index, payment, body):
                unanswered.append((payment, body, timezone.now()))
        ctx.advance()
    _settle_unanswered(ctx, procore, index, unanswered)
    if ctx.dry_run:
        ctx.log(
            f"Dry run: {ctx.counts['would_send']} payments would be sent to Procore, "
            f"{ctx.counts['already_in_procore']} are there already"
        )


def build_contract_payment(payment: Payment, *, bill: XeroBillRecord | None, payment_method: str) -> NewContractPayment:
    """The field mapping in force (the Settings page lists it to finance people:
    dashboard.views.settings.FIELD_MAPPING). Procore's spec gives check_number no length;
    its API and the sandbox take 255 characters, so the reference is cut there, not at 50."""
    batch = f", batch {payment.batch_payment_id}" if payment.batch_payment_id else ""
    return NewContractPayment(
        project_id=payment.procore_project_id,
        commitment_id=payment.procore_commitment_id,
        date=payment.date,
        amount=payment.amount.quantize(_CENTS),
        origin_id=payment.xero_payment_id,
        invoice_number=(bill.invoice_number if bill and bill.invoice_number else payment.invoice_number)[:255],
        invoice_date=bill.date if bill else None,
        check_number=payment.reference[:CHECK_NUMBER_MAX],
        payment_method=payment_method,
        notes=f"Xero payment {payment.xero_payment_id}{batch}"[:255],
        origin_data=f"xero_payment_id={payment.xero_payment_id};xero_invoice_id={payment.xero_invoice_id};"
        f"updated={payment.xero_updated_at.isoformat() if payment.xero_updated_at else ''}",
        requisition_id=payment.procore_requisition_id,
    )


def _dry_run_one(ctx: RunContext, index: ProcoreIndex, payment: Payment, body: NewContractPayment, listed: int) -> int:
    existing = _existing(index, payment)
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


def _existing(index: ProcoreIndex, payment: Payment) -> ProcorePayment | None:
    payments = index.payments_on(project_id=payment.procore_project_id, commitment_id=payment.procore_commitment_id)
    return payments.get(payment.xero_payment_id)


def _may_still_land(payment: Payment) -> bool:
    """A payment left "sending" so recently that a create of it may still be carried out: it waits
    in `_settle_unanswered` like one of ours. (A run that died is declared dead only once its last
    request has timed out, `SyncRun.write_until`, so the row's last change is when it gave up.)"""
    return payment.state == PaymentState.SENDING and payment.updated_at > timezone.now() - _settle_after()


def _settle_unanswered(
    ctx: RunContext,
    procore: ProcoreApi,
    index: ProcoreIndex,
    waiting: list[tuple[Payment, NewContractPayment, dt.datetime]],
) -> None:
    """Creates Procore did not answer: each is looked for once it can no longer land (`_settle_after`
    from when it left), and posted again only if absent. Five rounds at most in a run; then the
    payment stays "sending" for the next run, which does the same."""
    for _ in range(MAX_UNANSWERED_ROUNDS):
        again = []
        for payment, body, left_at in sorted(waiting, key=lambda item: item[2]):
            while (wait := (left_at + _settle_after() - timezone.now()).total_seconds()) > 0:
                ctx.sleep(wait)  # in slices, beating; at most MAX_SLEEP a call
            payment.refresh_from_db()
            if payment.state not in UNSENT_STATES:
                continue
            with log_context(payment_id=payment.pk):
                if _send_one(ctx, procore, index, payment, body, fresh=True):
                    again.append((payment, body, timezone.now()))
        waiting = again
    for payment, _, _ in waiting:
        _set_aside(ctx, payment, maybe_sent=True)
        _event(ctx, payment, "error", "Procore did not answer its creates: the next run looks for it first")


def _send_one(
    ctx: RunContext,
    procore: ProcoreApi,
    index: ProcoreIndex,
    payment: Payment,
    body: NewContractPayment,
    *,
    fresh: bool = False,
) -> bool:
    """Send one payment unless Procore holds it already (`fresh`: re-read the commitment's payments
    first). Whether Procore left the create unanswered (the caller looks for it again later)."""
    try:
        existing = _read_existing(index, payment, fresh=fresh)
    except GaveUp as exc:
        _fail(ctx, payment, exc.error.message)
        return False
    except DataError as exc:
        _fail(ctx, payment, f"Procore refused to show the commitment's payments: {exc.message}")
        return False
    if existing is not None and fresh:  # an unanswered create of ours was carried out after all
        _event(ctx, payment, "reconciled", "Found in Procore after an unanswered attempt: not sent again")
        _mark_sent(ctx, payment, existing, already=False)
        return False
    if existing is not None:
        _mark_sent(ctx, payment, existing, already=True)
        return False
    if not _claim(ctx, payment):
        return False  # an Admin ignored it meanwhile, or another run holds it
    crashpoints.reached("before_create")
    try:
        created = _create_exactly_once(ctx, procore, index, payment, body)
    except LostClaim:
        return False
    except Unanswered as exc:
        # Not a move: the row stays "sending"; `updated_at` says from when it may still land.
        Payment.objects.filter(pk=payment.pk).update(
            last_error=fit(Payment, "last_error", str(exc)), updated_at=timezone.now()
        )
        return True
    except NeedsReconnect:
        _unclaim(ctx, payment, PaymentState.SENDING, to=PaymentState.READY)
        raise
    except GaveUp as exc:
        _fail(ctx, payment, exc.error.message)
        return False
    except DataError as exc:
        _fail(ctx, payment, f"Procore refused the payment: {exc.message}")
        return False
    crashpoints.reached("after_create")
    index.remember_payment(commitment_id=payment.procore_commitment_id, payment=created)
    _mark_sent(ctx, payment, created, already=False)
    return False


def _read_existing(index: ProcoreIndex, payment: Payment, *, fresh: bool = False) -> ProcorePayment | None:
    """The payment as Procore holds it (by origin_id), or None; `fresh`: the commitment read again.
    The client has tried as its read policy says (connectors.retries): what still fails is GaveUp;
    a rate limit it would not wait out is raised, and the run pauses."""
    try:
        if fresh:
            ids = {"project_id": payment.procore_project_id, "commitment_id": payment.procore_commitment_id}
            return index.reload_payments(**ids).get(payment.xero_payment_id)
        return _existing(index, payment)
    except TransientError as exc:
        raise GaveUp(exc) from exc


def _create_exactly_once(
    ctx: RunContext, procore: ProcoreApi, index: ProcoreIndex, payment: Payment, body: NewContractPayment
) -> ProcorePayment:
    """POST the payment. The client has sent again only what cannot have reached Procore, and waited
    out short rate limits (connectors.retries.PAYMENT_POST); the exactly-once rule is this loop's:
    after a 5xx answer (the POST may have been applied) or a 409 "origin_id taken", the commitment
    is read again, and the payment posted again only when it is not there (PAYMENT_POSTS at most)."""
    doubt: ConnectorError | None = None
    for posts in range(retries.PAYMENT_POSTS + 1):
        if doubt is not None and (found := _look_again(ctx, index, payment, body, doubt)) is not None:
            return found
        if posts == retries.PAYMENT_POSTS:
            break
        _renew_claim(ctx, payment)
        try:
            return procore.create_contract_payment(body)
        except TransientError as exc:
            doubt = _after_unsure_post(ctx, payment, exc, posts)
        except RateLimited:
            # Refused (429, a 503 outlasting the waits, or the limit known spent before sending):
            # not applied, and a re-read cleared any earlier doubt. The run pauses.
            _set_aside(ctx, payment, maybe_sent=False)
            raise
        except DataError as exc:
            if exc.status != 409:
                raise
            doubt = exc  # "origin_id has already been taken": only a payment we created can carry it
    raise GaveUp(doubt)


def _after_unsure_post(ctx: RunContext, payment: Payment, exc: TransientError, posts: int) -> TransientError:
    """A POST that failed: one that cannot have reached Procore failed for good (the client tried
    it again already); one Procore did not answer itself may still be carried out (Unanswered: it
    is looked for later); a 5xx answer ends the request: after a pause, the commitment is re-read."""
    if not exc.ambiguous:
        raise GaveUp(exc) from exc
    if exc.status in UNANSWERED_STATUSES:
        raise Unanswered(exc.message) from exc
    Payment.objects.filter(pk=payment.pk).update(last_error=fit(Payment, "last_error", exc.message))
    ctx.sleep(retries.backoff_delay(posts))  # beats while it sleeps; raises RunAborted if declared dead
    return exc


def _look_again(
    ctx: RunContext, index: ProcoreIndex, payment: Payment, body: NewContractPayment, doubt: ConnectorError
) -> ProcorePayment | None:
    """The commitment read again after a POST that may have been applied (or a 409): the payment
    when Procore has it; None when it may be posted again. A 409 for a payment that is not there
    is Procore's refusal (DataError)."""
    try:
        found = index.reload_payments(project_id=body.project_id, commitment_id=body.commitment_id)
    except TransientError as exc:
        raise GaveUp(exc) from exc
    except RateLimited:
        _set_aside(ctx, payment, maybe_sent=True)  # the last POST may have gone through
        raise
    conflict = isinstance(doubt, DataError)
    if body.origin_id in found:
        why = "Procore said its Xero payment id was taken" if conflict else "an unanswered attempt"
        _event(ctx, payment, "reconciled", f"Found in Procore after {why}: not sent again")
        return found[body.origin_id]
    if conflict:
        raise DataError(
            "Procore says another payment already carries this Xero payment id, but not on "
            f"this commitment ({doubt.message})",
            status=409,
        )
    return None


def _claim(ctx: RunContext, payment: Payment) -> bool:
    """ready/sending -> sending for this run, counting the attempt, before the remote call. Only
    while this run is running, and never a row another running run holds."""
    ctx.renew_lease()
    return Payment.objects.transition(
        payment,
        from_states=UNSENT_STATES,
        to=PaymentState.SENDING,
        guard=_ours(ctx) & _run_is_running(ctx),
        claimed_by_run=ctx.run,
        attempts=F("attempts") + 1,
    )


def _unclaim(ctx: RunContext, payment: Payment, claimed_as: str, *, to: str, **fields) -> bool:
    """Out of this run's hands: the row this run claimed (as "sending" or "reversing") moves on,
    unclaimed. Nothing happens when the row is no longer this run's."""
    return Payment.objects.transition(
        payment, from_states=(claimed_as,), to=to, guard=Q(claimed_by_run=ctx.run), claimed_by_run=None, **fields
    )


def _renew_claim(ctx: RunContext, payment: Payment) -> None:
    """Right before a POST: the run still holds its lease and the row is still its own."""
    ctx.renew_lease()
    if not Payment.objects.filter(pk=payment.pk, state=PaymentState.SENDING, claimed_by_run=ctx.run).exists():
        raise LostClaim(payment.pk)


def _set_aside(ctx: RunContext, payment: Payment, *, maybe_sent: bool) -> None:
    """The run pauses for a rate limit in the middle of sending this payment: it is not failed. It
    goes back to ready when no POST of it can have reached Procore, else stays "sending", which the
    resuming run reconciles (it reads the commitment for the payment's origin_id before posting)."""
    _unclaim(ctx, payment, PaymentState.SENDING, to=PaymentState.SENDING if maybe_sent else PaymentState.READY)


def _mark_sent(ctx: RunContext, payment: Payment, remote: ProcorePayment, *, already: bool) -> None:
    now = timezone.now()
    if not Payment.objects.transition(
        payment,
        from_states=UNSENT_STATES,
        to=PaymentState.SENT,
        guard=_ours(ctx),
        procore_payment_id=remote.id,
        claimed_by_run=None,
        sent_at=now,
        updated_at=now,
        **no_reason(),
        last_error="",
    ):
        return
    if already:
        ctx.count("already_in_procore")
        _event(ctx, payment, "sent", f"{ALREADY_IN_PROCORE_EVENT} as payment #{remote.id} (matched by Xero payment id)")
    else:
        ctx.count("sent")
        _event(ctx, payment, "sent", f"Sent to Procore as payment #{remote.id}")


def _fail(ctx: RunContext, payment: Payment, message: str) -> None:
    if not Payment.objects.transition(
        payment,
        from_states=UNSENT_STATES,
        to=PaymentState.FAILED,
        guard=_ours(ctx),
        claimed_by_run=None,
        **Reason.PROCORE_REFUSED.fields(detail=message),
        last_error=message,
    ):
        return
    ctx.count("failed")
    _event(ctx, payment, "failed", f"Failed because {message}")
    ctx.log(f"Payment {payment.xero_payment_id} failed: {message}", level="warning")


def _event(ctx: RunContext, payment: Payment, kind: str, message: str) -> None:
    """A line of the payment's history, written by this run."""
    PaymentEvent.objects.record(payment, kind, message, run=ctx.run)


# --- deleted in Xero before we knew whether Procore has it -----------------------------------------

# Rows that may have reached Procore though we never recorded it: left "sending" by a dead run, or
# tried at least once (a timeout is ambiguous) and then failed, retried or blocked.
_MAYBE_SENT_STATES = (
    PaymentState.SENDING,
    PaymentState.FAILED,
    PaymentState.NEW,
    PaymentState.BLOCKED,
    PaymentState.READY,
)
_MAYBE_SENT = Q(state__in=_MAYBE_SENT_STATES) & (Q(state=PaymentState.SENDING) | Q(attempts__gt=0))


def settle_deleted_unsent(*, ctx: RunContext, index: ProcoreIndex) -> None:
    """Payments deleted in Xero that may be in Procore all the same are looked up there (each
    commitment's payments read once per run): found -> recorded as sent with Procore's id, so
    the reversal step deletes it; not there -> set aside as not for Procore, saying it was checked."""
    payments = list(
        Payment.objects.filter(
            integration=ctx.run.integration,
            xero_status="DELETED",
            procore_project_id__isnull=False,
            procore_commitment_id__isnull=False,
        )
        .filter(_MAYBE_SENT)
        .filter(_ours(ctx))
        .order_by("procore_commitment_id", "id")
    )
    if not payments:
        return
    ctx.phase("reversals", total=len(payments))
    for payment in payments:
        if ctx.dry_run:
            ctx.log(f"Would check Procore for Xero payment {payment.xero_payment_id} (deleted in Xero)")
        else:
            with log_context(payment_id=payment.pk):
                _settle_one(ctx, index, payment)
        ctx.advance()


def _settle_one(ctx: RunContext, index: ProcoreIndex, payment: Payment) -> None:
    try:
        found = _read_existing(index, payment)
    except (GaveUp, DataError) as exc:
        message = exc.error.message if isinstance(exc, GaveUp) else exc.message
        ctx.log(
            f"Could not check Procore for Xero payment {payment.xero_payment_id} (deleted in Xero): {message}; "
            "the next run tries again",
            level="warning",
        )
        return
    now = timezone.now()
    moves = {"from_states": _MAYBE_SENT_STATES, "guard": _MAYBE_SENT & _ours(ctx), "claimed_by_run": None}
    if found is not None:
        if Payment.objects.transition(
            payment,
            to=PaymentState.SENT,
            procore_payment_id=found.id,
            sent_at=payment.sent_at or now,
            updated_at=now,
            **no_reason(),
            **moves,
        ):
            _event(
                ctx,
                payment,
                "reconciled",
                f"Deleted in Xero, and found in Procore as payment #{found.id} (an earlier attempt had gone "
                "through): it is reversed next",
            )
        return
    if Payment.objects.transition(
        payment,
        to=PaymentState.SKIPPED,
        **Reason.DELETED_IN_XERO.fields(variant="checked"),
        updated_at=now,
        **moves,
    ):
        ctx.count("skipped")
        _event(ctx, payment, "skipped", "Deleted in Xero; Procore was checked and does not have it: nothing to undo")


# --- reversals -------------------------------------------------------------------------------------


def reverse_deleted(*, ctx: RunContext, procore: ProcoreApi, index: ProcoreIndex) -> None:
    """Sent payments that are now deleted in Xero are deleted in Procore."""
    payments = list(
        Payment.objects.filter(
            integration=ctx.run.integration,
            xero_status="DELETED",
            state__in=[PaymentState.SENT, PaymentState.REVERSING],
        )
        .filter(_ours(ctx))
        .order_by("id")
    )
    if not payments:
        return
    ctx.phase("reversals", total=len(payments))
    for payment in payments:
        if ctx.dry_run:
            ctx.count("would_reverse")
            ctx.log(f"Would delete Procore payment #{payment.procore_payment_id} (deleted in Xero)")
        else:
            with log_context(payment_id=payment.pk):
                _reverse_one(ctx, procore, index, payment)
        ctx.advance()


def _reverse_one(ctx: RunContext, procore: ProcoreApi, index: ProcoreIndex, payment: Payment) -> None:
    ctx.renew_lease()
    if not Payment.objects.transition(
        payment,
        from_states=(PaymentState.SENT, PaymentState.REVERSING),
        to=PaymentState.REVERSING,
        guard=_ours(ctx) & _run_is_running(ctx),
        claimed_by_run=ctx.run,
        attempts=F("attempts") + 1,
    ):
        return
    try:
        last = _delete_in_procore(ctx, procore, index, payment)
    except RateLimited:
        # The run pauses: a refused (429) delete was not applied, so the payment is still "sent",
        # and the run that resumes deletes it.
        _unclaim(ctx, payment, PaymentState.REVERSING, to=PaymentState.SENT)
        raise
    if last == _FLAGGED:
        return
    if isinstance(last, ConnectorError):
        # Could not reach Procore: keep it "sent" so the next run tries again.
        message = last.message
        _unclaim(
            ctx, payment, PaymentState.REVERSING, to=PaymentState.SENT, last_error=f"Reversal not done yet: {message}"
        )
        _event(ctx, payment, "reversal_retry", f"Could not delete it in Procore yet ({message}); will try again")
        ctx.count("reversal_pending")
        return
    if _unclaim(ctx, payment, PaymentState.REVERSING, to=PaymentState.REVERSED, **no_reason(), last_error=""):
        ctx.count("reversed")
        _event(
            ctx, payment, "reversed", f"Deleted in Xero, so Procore payment #{payment.procore_payment_id} was deleted"
        )


_GONE = "gone"
_FLAGGED = "flagged"


def _delete_in_procore(
    ctx: RunContext, procore: ProcoreApi, index: ProcoreIndex, payment: Payment
) -> str | ConnectorError:
    """DELETE the Procore payment (the client tries as its delete policy says): _GONE when it is
    gone; _FLAGGED when Procore refused and the payment now needs attention; the error when Procore
    could not be reached (the next run tries again). A rate limit the client would not wait out is
    raised (the run pauses)."""
    ctx.renew_lease()
    try:
        procore.delete_contract_payment(
            payment.procore_payment_id,
            project_id=payment.procore_project_id,
            commitment_id=payment.procore_commitment_id,
        )
    except NotFound:
        doubt = _confirm_gone(index, payment)
        if doubt is _UNREADABLE:
            return TransientError("Procore answered 404 to the delete, and re-reading the commitment failed")
        if doubt:
            _needs_attention(ctx, payment, doubt)
            return _FLAGGED
        return _GONE  # already gone: the reversal's goal holds
    except DataError as exc:
        _needs_attention(ctx, payment, exc.message, refused=True)
        return _FLAGGED
    except TransientError as exc:
        return exc
    return _GONE


_UNREADABLE = "unreadable"


def _confirm_gone(index: ProcoreIndex, payment: Payment) -> str:
    """After a 404 on delete, a fresh read of the commitment's payments: "" when the payment is
    gone, else why a person should look (or _UNREADABLE: Procore could not be read, try again)."""
    try:
        index.reload_payments(project_id=payment.procore_project_id, commitment_id=payment.procore_commitment_id)
    except DataError as exc:
        return f"Procore answered 404 to the delete and would not show the commitment's payments ({exc.message})"
    except TransientError:
        return _UNREADABLE
    if payment.procore_payment_id in index.payment_ids_on(payment.procore_commitment_id):
        return "Procore answered 404 (not found) to the delete but still lists the payment on the commitment"
    return ""


def _needs_attention(ctx: RunContext, payment: Payment, reason: str, *, refused: bool = False) -> None:
    """The reversal is a person's now: the payment waits as "needs attention" with the steps, and no
    run deletes it again (reverse_deleted takes only sent payments) until an Admin retries it."""
    if not _unclaim(
        ctx,
        payment,
        PaymentState.REVERSING,
        to=PaymentState.NEEDS_ATTENTION,
        **Reason.REVERSAL_REFUSED.fields(
            variant="locked" if refused else "",
            procore_payment_id=payment.procore_payment_id,
            detail=reason,
            steps=removal_steps(payment),
        ),
        last_error=reason,  # Procore's own words, also when the message says only "locked"
    ):
        return
    ctx.count("needs_attention")
    _event(ctx, payment, "needs_attention", f"Reversal needs attention: Procore refused to delete it ({reason})")
    ctx.log(f"Reversal of Xero payment {payment.xero_payment_id} needs attention: {reason}", level="warning")


def removal_steps(payment: Payment) -> str:
    """What a Procore admin does by hand, in Procore's own words for the places to click."""
    commitment = payment.commitment_number or f"#{payment.procore_commitment_id}"
    project = f"project {payment.project_name} > " if payment.project_name else ""
    return (
        f"In Procore, open {project}commitment {commitment} > Payments issued, payment #{payment.procore_payment_id} "
        f"({payment.amount:,.2f} on {payment.date:%Y-%m-%d}): a Procore company admin must remove it — Procore "
        "locks payments created by an integration — then mark the reversal done here."
    )
