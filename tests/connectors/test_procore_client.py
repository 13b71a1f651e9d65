"""ProcoreClient against the sandbox Procore over real HTTP: typed reads, paging, the payment POST
and its exactly-once rules, and each row of the error table driven by the sandbox's switches."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.conf import settings

from syncapp.connectors.procore import contract_payment_body, procore_messages
from syncapp.connectors.types import (
    CallCounter,
    DataError,
    NeedsReconnect,
    NewContractPayment,
    NotFound,
    ProcoreCommitment,
    TransientError,
)
from syncapp.sandbox.models import Behaviour

pytestmark = pytest.mark.django_db(transaction=True)


def new_payment(world, **overrides) -> NewContractPayment:
    values = dict(
        project_id=world.project.id,
        commitment_id=world.commitment.id,
        date=dt.date(2026, 11, 3),
        amount=Decimal("1250.5"),
        origin_id="0f8d1a6e-xero-payment-1",
        invoice_number="INV-778",
        invoice_date=dt.date(2026, 10, 31),
        check_number="EFT 20261103",
        notes="Xero payment 0f8d1a6e",
        requisition_id=world.requisition.id,
    )
    values.update(overrides)
    return NewContractPayment(**values)


def switch_off_after_first_call(counter: CallCounter, **switches_off) -> None:
    """Turn a sandbox fault off once the first call has been made, so the retry meets a
    healthy service: the retry path is then proven to end in success."""

    def on_call():
        if counter.calls == 2:
            Behaviour.set("procore", **switches_off)

    counter.on_call = on_call


# --- reads ---


def test_reads_come_back_as_typed_objects_with_64_bit_ids(procore_client, procore_world):
    me = procore_client.me()
    assert me.id == procore_world.user.id and me.id > 2**32

    companies = procore_client.companies()
    assert [c.id for c in companies] == [procore_world.company.id]

    (project,) = procore_client.projects()
    assert (project.id, project.project_number) == (procore_world.project.id, "P-1001")

    commitments = procore_client.commitments(procore_world.project.id)
    assert {(c.kind, c.number, c.vendor_id) for c in commitments} == {
        ("WorkOrderContract", "SC-001", procore_world.vendor.id),
        ("PurchaseOrderContract", "PO-007", procore_world.vendor.id),
    }
    subcontract = next(c for c in commitments if c.number == "SC-001")
    assert isinstance(subcontract, ProcoreCommitment)
    assert subcontract.grand_total == Decimal("100000.00")
    assert subcontract.currency_code == ""  # a single-currency company states none

    (requisition,) = procore_client.requisitions(
        project_id=procore_world.project.id, commitment_id=procore_world.commitment.id, status="approved"
    )
    assert (requisition.invoice_number, requisition.origin_id, requisition.total_amount) == (
        "INV-778",
        "xero-invoice-1",
        Decimal("12500.00"),
    )
    assert procore_client.requisitions(project_id=procore_world.project.id, origin_id="no-such-origin") == []


def test_vendors_are_found_by_origin_id_and_by_search_on_the_tax_number(procore_client, procore_world):
    created = procore_client.create_vendor(
        name="Bright Sparks Electrical", origin_id="xero-contact-42", notes="tax number 12 345 678 901"
    )
    assert created.id > 2**32 and created.origin_id == "xero-contact-42"
    assert created.business_id == ""  # the create documents no ABN/EIN field: Procore keeps none

    (by_origin,) = procore_client.vendors(origin_id="xero-contact-42")
    assert by_origin == created
    (by_abn,) = procore_client.vendors(search="51824753556")
    assert by_abn.id == procore_world.vendor.id and by_abn.business_id == "51824753556"


def test_lists_follow_the_pages_to_the_end(procore_world, make_procore_client):
    from syncapp.sandbox.procore.models import Vendor

    for number in range(7):
        Vendor.objects.create(company=procore_world.company, name=f"Vendor {number:02d}")
    counter = CallCounter()
    client = make_procore_client(counter=counter, per_page=3)
    vendors = client.vendors()
    assert len(vendors) == 8  # the world's vendor and the seven above
    assert len({v.id for v in vendors}) == 8
    assert counter.calls == 3


# --- the payment POST ---


def test_a_payment_is_sent_with_a_two_place_amount_and_read_back_from_the_commitment(procore_client, procore_world):
    from syncapp.sandbox.procore.models import ContractPayment

    created = procore_client.create_contract_payment(new_payment(procore_world))

    stored = ContractPayment.objects.get(pk=created.id)
    assert stored.amount == Decimal("1250.50")
    assert (stored.date, stored.invoice_date) == (dt.date(2026, 11, 3), dt.date(2026, 10, 31))
    assert (stored.origin_id, stored.invoice_number, stored.requisition_id) == (
        "0f8d1a6e-xero-payment-1",
        "INV-778",
        procore_world.requisition.id,
    )
    assert created.amount == Decimal("1250.50") and created.commitment_id == procore_world.commitment.id

    commitment, payments = procore_client.commitment(procore_world.commitment.id, project_id=procore_world.project.id)
    assert commitment.number == "SC-001"
    assert [(p.id, p.origin_id, p.amount) for p in payments] == [(created.id, created.origin_id, Decimal("1250.50"))]
    listed = procore_client.contract_payments(
        project_id=procore_world.project.id, commitment_id=procore_world.commitment.id
    )
    assert [p.id for p in listed] == [created.id]


def test_the_body_sends_payment_number_only_when_it_is_an_integer():
    payment = NewContractPayment(
        project_id=1,
        commitment_id=2,
        date=dt.date(2026, 1, 2),
        amount=Decimal("10"),
        origin_id="p-1",
        extra={"payment_number": "12", "draw_request_number": "3A"},
    )
    body = contract_payment_body(payment)
    assert body["contract_payment"]["amount"] == "10.00"
    assert body["contract_payment"]["payment_number"] == 12
    assert "draw_request_number" not in body["contract_payment"]
    assert "requisition_id" not in body["contract_payment"]


def test_a_refused_payment_is_one_readable_data_error_with_details(procore_client, procore_world):
    with pytest.raises(DataError) as refused:
        procore_client.create_contract_payment(new_payment(procore_world, payment_method="wire"))
    error = refused.value
    assert error.status == 422
    assert "payment method is not included in the list" in error.message
    assert "payment_method" in error.details
    assert "\n" not in error.message


def test_an_origin_id_taken_by_another_payment_is_a_data_error(procore_client, procore_world):
    # Whether real Procore refuses a taken origin_id is unverified: the sandbox accepts it by default,
    # and this test switches the refusal on to prove how the client reports a 409.
    from syncapp.sandbox.procore.models import Company

    Company.objects.filter(pk=procore_world.company.pk).update(unique_payment_origin=True)
    procore_client.create_contract_payment(new_payment(procore_world))
    with pytest.raises(DataError) as clash:
        procore_client.create_contract_payment(new_payment(procore_world, date=dt.date(2026, 11, 4)))
    assert clash.value.status == 409
    assert "origin id has already been taken" in clash.value.message


def test_by_default_a_second_payment_with_a_taken_origin_id_is_created(procore_client, procore_world):
    first = procore_client.create_contract_payment(new_payment(procore_world))
    second = procore_client.create_contract_payment(new_payment(procore_world, date=dt.date(2026, 11, 4)))
    assert first.id != second.id and first.origin_id == second.origin_id  # exactly-once is the product's job


def test_commit_then_500_is_ambiguous_and_the_post_is_not_retried(procore_world, make_procore_client):
    from syncapp.sandbox.procore.models import ContractPayment

    Behaviour.set("procore", commit_then_fail="500")
    counter = CallCounter()
    client = make_procore_client(counter=counter)
    with pytest.raises(TransientError) as lost:
        client.create_contract_payment(new_payment(procore_world))
    assert lost.value.ambiguous is True
    assert counter.calls == 1
    assert ContractPayment.objects.filter(origin_id="0f8d1a6e-xero-payment-1").count() == 1
    # The caller's recovery: the re-read shows the payment did land.
    Behaviour.set("procore", commit_then_fail="")
    _, payments = client.commitment(procore_world.commitment.id, project_id=procore_world.project.id)
    assert [p.origin_id for p in payments] == ["0f8d1a6e-xero-payment-1"]


def test_commit_then_timeout_is_ambiguous_and_not_retried(procore_world, make_procore_client, held_hang):
    Behaviour.set("procore", commit_then_fail="timeout", hang_seconds=30)
    counter = CallCounter()
    client = make_procore_client(counter=counter, timeout=0.5)
    with pytest.raises(TransientError) as lost:
        client.create_contract_payment(new_payment(procore_world))
    assert lost.value.ambiguous is True
    assert counter.calls == 1


def test_a_payment_that_could_not_connect_is_not_ambiguous(procore_world, settings, make_procore_client):
    settings.PROCORE_API_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    counter = CallCounter()
    client = make_procore_client(counter=counter, sleep=lambda s: None)
    with pytest.raises(TransientError) as refused:
        client.create_contract_payment(new_payment(procore_world))
    assert refused.value.ambiguous is False
    assert counter.calls == 4


def test_by_default_deleting_a_synced_payment_is_refused_as_a_data_error(procore_client, procore_world):
    # Procore's financial-tools guide: a payment with an origin_id "cannot be edited or deleted
    # because it is synced with an ERP system".
    created = procore_client.create_contract_payment(new_payment(procore_world))
    ids = dict(project_id=procore_world.project.id, commitment_id=procore_world.commitment.id)
    with pytest.raises(DataError) as refused:
        procore_client.delete_contract_payment(created.id, **ids)
    assert refused.value.status == 422 and "synced with an ERP system" in refused.value.message
    assert [p.id for p in procore_client.contract_payments(**ids)] == [created.id]


def test_a_payment_can_be_deleted_and_a_missing_one_is_not_found(procore_client, procore_world):
    # A company where the integration may delete its own payments (the refusal is the default).
    from syncapp.sandbox.procore.models import Company

    Company.objects.filter(pk=procore_world.company.pk).update(refuse_delete_with_origin=False)
    created = procore_client.create_contract_payment(new_payment(procore_world))
    ids = dict(project_id=procore_world.project.id, commitment_id=procore_world.commitment.id)
    procore_client.delete_contract_payment(created.id, **ids)
    assert procore_client.contract_payments(**ids) == []
    with pytest.raises(NotFound):
        procore_client.delete_contract_payment(created.id, **ids)


# --- the error table ---


def test_a_401_refreshes_exactly_once_and_the_call_then_succeeds(procore_client, procore_world):
    from syncapp.sandbox.procore.models import Token

    first = procore_world.tokens.access_token()
    Token.objects.filter(access_token=first).update(revoked=True)
    assert procore_client.me().id == procore_world.user.id
    assert procore_world.tokens.refreshes == 1
    assert procore_world.tokens.refused_tokens == [first]


def test_tokens_refused_even_after_a_refresh_need_a_reconnect(procore_client, procore_world):
    Behaviour.set("procore", expire_tokens=True)
    with pytest.raises(NeedsReconnect):
        procore_client.projects()
    assert procore_world.tokens.refreshes == 1


def test_an_app_not_installed_in_the_company_needs_a_reconnect(procore_client, procore_world):
    procore_world.app.installed_in.clear()
    with pytest.raises(NeedsReconnect) as dead:
        procore_client.projects()
    assert "not connected" in dead.value.message
    assert dead.value.status == 403


def test_a_commitment_in_another_project_is_not_found(procore_client, procore_world):
    with pytest.raises(NotFound):
        procore_client.commitment(procore_world.commitment.id, project_id=procore_world.project.id + 1)


def test_server_errors_on_reads_are_retried_until_they_pass(procore_world, make_procore_client):
    Behaviour.set("procore", error_rate=1.0)
    counter = CallCounter()
    switch_off_after_first_call(counter, error_rate=0.0)
    client = make_procore_client(counter=counter)
    assert len(client.projects()) == 1
    assert counter.calls == 2


@pytest.mark.parametrize("status", [500, 502])  # a 503 that never stops is Procore's "overloaded": RateLimited
def test_server_errors_that_never_stop_end_as_a_transient_error(
    procore_world, make_procore_client, server_errors_are, status
):
    server_errors_are(status)
    Behaviour.set("procore", error_rate=1.0)
    counter = CallCounter()
    client = make_procore_client(counter=counter, sleep=lambda s: None)
    with pytest.raises(TransientError) as failed:
        client.projects()
    assert failed.value.ambiguous is False
    assert counter.calls >= 4


def test_a_429_is_waited_out_and_the_call_succeeds(procore_world, make_procore_client):
    Behaviour.set("procore", throttle_rate=1.0, spike_window_seconds=1)
    counter = CallCounter()
    switch_off_after_first_call(counter, throttle_rate=0.0)
    client = make_procore_client(counter=counter)
    started = time.monotonic()
    assert len(client.projects()) == 1
    assert counter.calls == 2
    assert counter.throttled == 1
    assert counter.waited_seconds >= 0.9
    assert time.monotonic() - started >= 0.9


def test_pacing_keeps_a_steady_run_under_a_low_spike_limit_without_a_429(procore_world, make_procore_client):
    Behaviour.set("procore", spike_limit=6, spike_window_seconds=2)
    counter = CallCounter()
    client = make_procore_client(counter=counter)
    started = time.monotonic()
    for _ in range(24):
        client.me()
    elapsed = time.monotonic() - started
    assert counter.throttled == 0
    # 24 calls at 6 per 2 s need at least three full windows after the first burst.
    assert elapsed >= 5.0
    assert 24 / elapsed >= 0.6 * (6 / 2)


def test_error_bodies_of_every_shape_flatten_to_one_line():
    assert procore_messages({"errors": {"amount": ["can't be blank"], "base": ["Locked"]}})[0] == (
        "amount can't be blank; Locked"
    )
    assert procore_messages({"errors": "App is not connected to this company"})[0] == (
        "App is not connected to this company"
    )
    assert procore_messages({"errors": ["one", "two"]})[0] == "one; two"
    assert procore_messages({"error": "invalid_token", "message": "expired"})[0] == "invalid_token; expired"
    assert settings.PROCORE_API_URL  # the client reads it at construction


def test_a_multi_currency_company_states_the_currency_of_commitments_and_invoices(procore_client, procore_world):
    from syncapp.sandbox.procore.models import Company

    Company.objects.filter(pk=procore_world.company.pk).update(uses_currencies=True)

    commitments = procore_client.commitments(procore_world.project.id)
    (requisition,) = procore_client.requisitions(project_id=procore_world.project.id)

    assert {c.currency_code for c in commitments} == {"AUD"}
    assert requisition.currency_code == "AUD"
