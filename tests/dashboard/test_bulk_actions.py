"""Bulk actions on the payments list and the failure queue (each payment through its own action's
service: guarded, in its history and the audit log), and the list's total per currency."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from syncapp.core.models import AuditEntry
from syncapp.sync.models import Payment, PaymentState
from tests.dashboard.conftest import make_payment

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def failed_payments(world, count: int) -> list[Payment]:
    return [
        make_payment(world.integration, 50 + n, state=PaymentState.FAILED, reason_code="procore_refused")
        for n in range(count)
    ]


def bulk(client, action: str, payments, **extra):
    data = {"action": action, "ids": [p.pk for p in payments], "next": reverse("payments"), **extra}
    return client.post(reverse("payments-bulk"), data, follow=True)


def test_bulk_retry_retries_failed_ones_and_skips_the_rest(world, admin_client, admin_user):
    failed = [world.failed, *failed_payments(world, 11)]
    response = bulk(admin_client, "retry", [*failed, world.sent])
    assert "12 retried, 1 skipped: already sent" in messages_of(response)
    assert all(p.state == PaymentState.NEW for p in Payment.objects.filter(pk__in=[p.pk for p in failed]))
    world.sent.refresh_from_db()
    assert world.sent.state == PaymentState.SENT
    entries = AuditEntry.objects.filter(action="payment.retried")
    assert sorted(e.details["payment_id"] for e in entries) == sorted(p.pk for p in failed)
    assert {e.actor for e in entries} == {admin_user}


def test_bulk_ignore_uses_one_reason_for_every_payment(world, admin_client):
    response = bulk(admin_client, "ignore", [world.blocked, world.failed], reason="Paid by cheque, not in Procore")
    assert "2 ignored" in messages_of(response)
    for p in (world.blocked, world.failed):
        p.refresh_from_db()
        assert p.state == PaymentState.IGNORED
        assert p.message == "Ignored: Paid by cheque, not in Procore"
    assert AuditEntry.objects.filter(action="payment.ignored").count() == 2


def test_bulk_ignore_without_a_reason_changes_nothing(world, admin_client):
    response = bulk(admin_client, "ignore", [world.blocked])
    assert "Say why these payments are ignored (a few words)." in messages_of(response)
    world.blocked.refresh_from_db()
    assert world.blocked.state == PaymentState.BLOCKED
    assert not AuditEntry.objects.filter(action="payment.ignored").exists()


def test_bulk_without_an_action_or_a_selection_says_what_is_missing_and_changes_nothing(world, admin_client):
    assert "Choose an action for the selected payments." in messages_of(bulk(admin_client, "", [world.failed]))
    assert "Select at least one payment first." in messages_of(bulk(admin_client, "retry", []))
    assert "Choose at least one payment to re-check." in messages_of(bulk(admin_client, "recheck", []))
    world.failed.refresh_from_db()
    assert world.failed.state == PaymentState.FAILED
    assert not AuditEntry.objects.filter(action__startswith="payment.").exists()


def test_bulk_confirm_closes_reversals_done_by_hand(world, admin_client):
    waiting = make_payment(world.integration, 60, state=PaymentState.NEEDS_ATTENTION, reason_code="reversal_refused")
    response = bulk(admin_client, "confirm", [waiting, world.blocked])
    assert "1 confirmed, 1 skipped: already blocked" in messages_of(response)
    waiting.refresh_from_db()
    assert waiting.state == PaymentState.REVERSED
    assert AuditEntry.objects.filter(action="payment.reversal_done", details__payment_id=waiting.pk).exists()


@pytest.mark.parametrize("action", ["retry", "ignore", "confirm"])
def test_finance_cannot_run_admin_bulk_actions(world, finance_client, action):
    response = finance_client.post(
        reverse("payments-bulk"), {"action": action, "ids": [world.failed.pk], "reason": "no thanks"}
    )
    assert response.status_code == 403
    world.failed.refresh_from_db()
    assert world.failed.state == PaymentState.FAILED
    assert not AuditEntry.objects.filter(action__startswith="payment.").exists()


def test_bulk_is_a_post(world, admin_client):
    assert admin_client.get(reverse("payments-bulk")).status_code == 405


def test_bulk_needs_the_csrf_token(world, admin_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(reverse("payments-bulk"), {"action": "retry", "ids": [world.failed.pk]})
    assert response.status_code == 403
    world.failed.refresh_from_db()
    assert world.failed.state == PaymentState.FAILED


def test_bulk_goes_back_to_the_page_it_came_from_only(world, admin_client):
    response = admin_client.post(
        reverse("payments-bulk"), {"action": "retry", "ids": [world.failed.pk], "next": "https://evil.example/"}
    )
    assert response.url == reverse("payments")
    response = admin_client.post(
        reverse("payments-bulk"), {"action": "retry", "ids": [world.failed.pk], "next": reverse("failures")}
    )
    assert response.url == reverse("failures")


def test_the_list_and_the_failure_queue_offer_the_selection(world, admin_client):
    html = admin_client.get(reverse("payments")).content.decode()
    assert f'name="ids" value="{world.failed.pk}" form="bulk-payments"' in html
    assert 'data-select-all="bulk-payments"' in html
    assert 'value="ignore"' in html
    failures_html = admin_client.get(reverse("failures")).content.decode()
    assert f'name="ids" value="{world.failed.pk}" form="bulk-failures"' in failures_html
    assert 'id="bulk-failures"' in failures_html


def test_finance_is_offered_only_the_re_check(world, finance_client):
    html = finance_client.get(reverse("payments")).content.decode()
    assert 'value="recheck"' in html
    assert 'value="ignore"' not in html  # Admin-only actions are not offered (and refused: 403 above)


def totals_line(html: str) -> str:
    line = re.search(r'<div class="resultbar totals" id="amount-totals">.*?</div>', html, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line)).strip()


def test_total_per_currency_of_the_filtered_rows(world, finance_client):
    make_payment(world.integration, 70, amount=Decimal("1000.10"), currency_code="NZD", state=PaymentState.BLOCKED)
    make_payment(world.integration, 71, amount=Decimal("0.90"), currency_code="NZD", state=PaymentState.BLOCKED)
    blocked = Payment.objects.filter(state=PaymentState.BLOCKED)
    aud = sum(p.amount for p in blocked if p.currency_code == "AUD")
    line = totals_line(finance_client.get(reverse("payments"), {"state": "blocked"}).content.decode())
    assert line == f"Total of what the filters select: {aud:,.2f} AUD (1 payment) · 1,001.00 NZD (2 payments)"
    everything = totals_line(finance_client.get(reverse("payments")).content.decode())
    all_aud = sum(p.amount for p in Payment.objects.filter(currency_code="AUD"))
    assert f"{all_aud:,.2f} AUD (3 payments)" in everything


def test_no_total_when_nothing_matches(world, finance_client):
    html = finance_client.get(reverse("payments"), {"q": "nothing-like-this"}).content.decode()
    assert 'id="amount-totals"' not in html
