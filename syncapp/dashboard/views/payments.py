"""Payments: the filtered, searchable, sortable list (its filters and sort: PaymentFilterSet), and
one payment's detail.

The list pages with LIMIT/OFFSET on indexed columns and reads one row more than it shows to know
whether a next page exists; the total is counted only up to COUNT_CAP rows, so a page costs the
same at 100,000 payments as at 1,000. The amount total per currency is one aggregate over every
row the filters select (it grows with them, unlike the page).
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from syncapp.connections.models import Integration
from syncapp.connections.services import connection_problem
from syncapp.core.roles import admin_required, finance_required, is_admin
from syncapp.dashboard import selectors
from syncapp.dashboard.filters import PaymentFilterSet
from syncapp.dashboard.forms import ReasonForm
from syncapp.dashboard.links import external_links, fix_link
from syncapp.dashboard.views.common import page_integration, show_integration
from syncapp.sync import services
from syncapp.sync.models import Payment, SyncRun
from syncapp.sync.runs import active_run, enqueue_run, start_run
from syncapp.sync.services import ActionRefused

PER_PAGE = 50
COUNT_CAP = 10_000
MAX_PAGE = 2_000  # deeper than this, narrow the filters (OFFSET grows with the page)
BULK_LIMIT = 500  # payments one bulk click may touch (each one is an event and an audit row)

COLUMNS = [  # (?sort= value, heading, numeric); "" for a column that does not sort
    ("date", "Date", False),
    ("vendor", "Vendor", False),
    ("invoice", "Invoice", False),
    ("", "Project / commitment", False),
    ("amount", "Amount", True),
    ("state", "State", False),
]


def list_filters(request: HttpRequest, *, integration: Integration | None) -> PaymentFilterSet:
    """The list's filters and sort from the URL (the page and its downloads read them here, so
    they always agree)."""
    return PaymentFilterSet(request.GET, queryset=selectors.payment_rows(integration=integration))


@finance_required
def payment_list(request: HttpRequest) -> HttpResponse:
    integrations, integration = page_integration(request)
    filterset = list_filters(request, integration=integration)
    qs = filterset.qs
    rows, pager, total_text = _page(request, qs)
    amounts = list(
        qs.order_by().values("currency_code").annotate(total=Sum("amount"), count=Count("id")).order_by("currency_code")
    )
    context = {
        "integrations": integrations,
        "integration": integration,
        "form": filterset.form,
        "sort": filterset.chosen.get("sort", ""),
        "filtered": any(name != "sort" for name in filterset.chosen),
        "payments": rows,
        "headings": _headings(request, filterset.sort_value),
        **selectors.filter_choices(integration=integration),
        "total_text": total_text,
        # Per currency, never one sum across currencies.
        "amount_totals": [(a["currency_code"], a["total"], a["count"]) for a in amounts if a["total"] is not None],
        "clear_url": reverse("payments"),
        "download_query": _download_query(request, integration if len(integrations) > 1 else None),
        "pager": pager,
    }
    template = "dashboard/components/payments_results.html" if request.htmx else "dashboard/payments.html"
    return render(request, template, context)


def _page(request: HttpRequest, qs: QuerySet[Payment]) -> tuple[list[Payment], dict, str]:
    """One page of rows, its previous/next links and the total as text. Django's Paginator would
    count every row the filters select; this reads one row more than it shows to know whether a
    next page exists, and counts only up to COUNT_CAP."""
    number = _page_number(request)
    start = (number - 1) * PER_PAGE
    rows = list(qs[start : start + PER_PAGE + 1])
    has_next = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    capped_total = qs.order_by()[: COUNT_CAP + 1].count()
    total_text = f"{COUNT_CAP:,}+" if capped_total > COUNT_CAP else f"{capped_total:,}"
    pager = {
        "summary": f"Showing {start + 1:,}–{start + len(rows):,} of {total_text}" if rows else "",
        "prev_url": _link(request, page=number - 1 if number > 2 else None) if number > 1 else "",
        "next_url": _link(request, page=number + 1) if has_next and number < MAX_PAGE else "",
    }
    return rows, pager, total_text


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, min(MAX_PAGE, int(request.GET.get("page", "1"))))
    except ValueError:
        return 1


def _headings(request: HttpRequest, sort: str) -> list[dict]:
    """The table's headings, each sortable one a link that sorts by it (back to the first page)."""
    headings = []
    descending = sort.startswith("-")
    for key, label, numeric in COLUMNS:
        entry = {"label": label, "numeric": numeric, "url": "", "sort": ""}
        if key:
            current = sort.lstrip("-") == key
            entry["sort"] = ("descending" if descending else "ascending") if current else ""
            # A first click sorts dates and amounts biggest first; a second click flips.
            entry["url"] = _link(request, sort=(key if current and descending else f"-{key}"), page=None)
        headings.append(entry)
    return headings


def _link(request: HttpRequest, **changes) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    return f"?{params.urlencode()}"


def _download_query(request: HttpRequest, integration) -> str:
    """The list's filters for its download links (no page: a download holds every row), naming the
    integration when there is a choice."""
    params = request.GET.copy()
    params.pop("page", None)
    if integration is not None:
        params["integration"] = integration.name
    return params.urlencode()


@finance_required
def payment_detail(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(Payment.objects.select_related("integration"), pk=payment_id)
    show_integration(request, payment.integration)
    context = {
        "payment": payment,
        **selectors.payment_context(payment=payment),
        "ignore_form": ReasonForm(),
        "links": external_links(payment=payment),
        "fix": fix_link(payment=payment),
    }
    return render(request, "dashboard/payment_detail.html", context)


def _act(request: HttpRequest, payment_id: int, action) -> HttpResponse:
    """Run one action on a payment and go back where the person came from, with a message."""
    payment = get_object_or_404(Payment, pk=payment_id)
    try:
        text = action(payment)
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, text)
    return redirect(_back(request, default=reverse("payment", args=[payment.pk])))


def _back(request: HttpRequest, *, default: str) -> str:
    target = request.POST.get("next", "")
    # Only a path of this site: anything else (another host, or a bare word redirect() would try
    # to reverse as a URL name) goes to the default.
    local = target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if local else default


@require_POST
@admin_required
def payment_retry(request: HttpRequest, payment_id: int) -> HttpResponse:
    def action(payment: Payment) -> str:
        services.retry_payment(payment=payment, actor=request.user)
        return "Queued again: the next run checks Procore first, then sends it."

    return _act(request, payment_id, action)


@require_POST
@admin_required
def payment_ignore(request: HttpRequest, payment_id: int) -> HttpResponse:
    form = ReasonForm(request.POST)

    def action(payment: Payment) -> str:
        if not form.is_valid():
            raise ActionRefused("Say why this payment is ignored (a few words).")
        services.ignore_payment(payment=payment, reason=form.cleaned_data["reason"], actor=request.user)
        return "Ignored: it stays out of Procore until someone un-ignores it."

    return _act(request, payment_id, action)


@require_POST
@admin_required
def payment_unignore(request: HttpRequest, payment_id: int) -> HttpResponse:
    def action(payment: Payment) -> str:
        services.unignore_payment(payment=payment, actor=request.user)
        return "Un-ignored: the next run checks it like any other payment."

    return _act(request, payment_id, action)


@require_POST
@admin_required
def payment_reversal_done(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Procore refused our delete; a person deleted the payment there by hand."""

    def action(payment: Payment) -> str:
        services.mark_reversal_done(payment=payment, actor=request.user)
        return "Marked reversed: recorded in the payment's history and the audit log."

    return _act(request, payment_id, action)


@require_POST
@admin_required
def payment_reversal_retry(request: HttpRequest, payment_id: int) -> HttpResponse:
    def action(payment: Payment) -> str:
        services.retry_reversal(payment=payment, actor=request.user)
        return "The next run tries to delete it in Procore again."

    return _act(request, payment_id, action)


# --- re-check now ------------------------------------------------------------------------------


def recheck(*, payments: list[Payment], actor) -> tuple[str, bool]:
    """A targeted run for these payments' bills (the engine handles only those bills' payments, as
    for a Xero webhook), so one payment is checked again without a full run. Never a second run
    while one is queued or running. (message, queued)."""
    if not payments:
        return "Choose at least one payment to re-check.", False
    integration = payments[0].integration
    bill_ids = sorted({p.xero_invoice_id for p in payments if p.xero_invoice_id})
    if not bill_ids:
        return "Nothing to re-check: these payments are on no Xero bill.", False
    running = active_run(integration=integration)
    if running is None:
        problem = connection_problem(integration)
        if problem:
            return problem, False
        run, created = start_run(
            integration=integration, trigger=SyncRun.Trigger.RECHECK, requested_by=actor, bill_ids=bill_ids
        )
        if created:
            enqueue_run(run)
            return f"Re-check queued as run #{run.pk}.", True
        running = run  # another run started between our look and our insert
    if not running.bill_ids or set(bill_ids) <= set(running.bill_ids):
        return f"Run #{running.pk} is in progress; it will re-check it.", False
    return f"Run #{running.pk} is in progress (for other bills); re-check again when it ends.", False


@require_POST
@finance_required
def payment_recheck(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(Payment.objects.select_related("integration"), pk=payment_id)
    text, queued = recheck(payments=[payment], actor=request.user)
    (messages.success if queued else messages.info)(request, text)
    return redirect(_back(request, default=reverse("payment", args=[payment.pk])))


# --- bulk actions ------------------------------------------------------------------------------

# action -> (done word, admin only, the service call)
BULK_ACTIONS = {
    "retry": ("retried", True, lambda p, actor, reason: services.retry_payment(payment=p, actor=actor)),
    "ignore": (
        "ignored",
        True,
        lambda p, actor, reason: services.ignore_payment(payment=p, reason=reason, actor=actor),
    ),
    # "Confirm": a person deleted the payment in Procore by hand (the single "Done by hand").
    "confirm": ("confirmed", True, lambda p, actor, reason: services.mark_reversal_done(payment=p, actor=actor)),
}


def _selected(request: HttpRequest) -> list[Payment]:
    ids = []
    for value in request.POST.getlist("ids")[:BULK_LIMIT]:
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return list(Payment.objects.select_related("integration").filter(pk__in=ids).order_by("id"))


def bulk_summary(done: int, word: str, skipped: Counter) -> str:
    """ "12 retried, 1 skipped: already sent"."""
    parts = [f"{done} {word}"]
    parts += [f"{n} skipped: {why}" for why, n in sorted(skipped.items())]
    return ", ".join(parts)


@require_POST
@finance_required
def payments_bulk(request: HttpRequest) -> HttpResponse:
    """One action on the selected payments (the payments list and the failure queue): each payment
    goes through the same service as its own button, so each is guarded and audited alone."""
    action = request.POST.get("action", "")
    back = _back(request, default=reverse("payments"))
    payments = _selected(request)
    if action == "recheck":
        _recheck_each_integration(request, payments)
        return redirect(back)
    if action not in BULK_ACTIONS:
        messages.error(request, "Choose an action for the selected payments.")
        return redirect(back)
    word, admin_only, call = BULK_ACTIONS[action]
    if admin_only and not is_admin(request.user):
        raise PermissionDenied("Only Admins can do this.")
    if not payments:
        messages.error(request, "Select at least one payment first.")
        return redirect(back)
    reason = ""
    if action == "ignore":
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Say why these payments are ignored (a few words).")
            return redirect(back)
        reason = form.cleaned_data["reason"]
    done, skipped = _apply_each(call, payments, actor=request.user, reason=reason)
    (messages.success if done else messages.error)(request, bulk_summary(done, word, skipped))
    return redirect(back)


def _recheck_each_integration(request: HttpRequest, payments: list[Payment]) -> None:
    """One targeted run per integration the selection spans; with nothing selected, say so."""
    by_integration: dict[int, list[Payment]] = {}
    for p in payments:
        by_integration.setdefault(p.integration_id, []).append(p)
    texts = [recheck(payments=group, actor=request.user) for group in by_integration.values()] or [
        recheck(payments=[], actor=request.user)
    ]
    for text, queued in texts:
        (messages.success if queued else messages.info)(request, text)


def _apply_each(call, payments: list[Payment], *, actor, reason: str) -> tuple[int, Counter]:
    """(how many the action was done to, how many it skipped by why): a refused one is skipped,
    never the end of the batch."""
    done, skipped = 0, Counter()
    for payment in payments:
        try:
            call(payment, actor, reason)
        except ActionRefused:
            skipped[f"already {payment.get_state_display().lower()}"] += 1
            continue
        done += 1
    return done, skipped
