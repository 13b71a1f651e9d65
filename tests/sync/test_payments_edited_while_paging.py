"""Reading Xero's payments page by page while someone in finance edits them, over HTTP against the
sandbox: reading on from the newest change seen loses no payment and counts each one once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from syncapp.connectors import xero as xero_module
from syncapp.sandbox.xero.models import Payment as XeroPaymentRow
from syncapp.sync.models import Payment, RunState

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_payment_edited_while_the_pages_are_read_is_not_lost(world, monkeypatch):
    original = xero_module.XeroClient.payments_page
    touched = {"done": False}
    calls = []

    def small_pages_and_an_edit_after_the_first(self, *, page, modified_since=None):
        self._page_size = 10
        calls.append(page)
        result = original(self, page=page, modified_since=modified_since)
        if not touched["done"]:
            touched["done"] = True
            # Someone in finance changes an early payment while we page.
            XeroPaymentRow.objects.filter(payment_id=result.items[0].payment_id).update(updated_at=timezone.now())
        return result

    monkeypatch.setattr(xero_module.XeroClient, "payments_page", small_pages_and_an_edit_after_the_first)
    run = world.run()
    assert run.state == RunState.SUCCEEDED, run.error
    in_xero = {str(pid) for pid in XeroPaymentRow.objects.values_list("payment_id", flat=True)}
    fetched = set(Payment.objects.values_list("xero_payment_id", flat=True))
    assert in_xero - fetched == set()
    assert run.fetched == len(in_xero)  # each payment counted once, however often it was read
    # Reading on from the newest change seen re-reads the row at the page boundary, and the edited
    # row once more: a page of 1,000 pays 0.1% for it; here (pages of 10) it is a call or two.
    assert len(calls) <= -(-len(in_xero) // 9) + 1
