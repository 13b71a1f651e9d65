"""The seeded world: deterministic, coherent in both sandboxes, every case present, and usable by
the product's apps over HTTP."""

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from io import StringIO

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.db.models import F, Sum
from django.utils import timezone

from syncapp.sandbox.models import Behaviour, SeededWorld
from syncapp.sandbox.procore import models as pc
from syncapp.sandbox.seed import (
    CASES,
    COMPANY_ID,
    DEFAULT_BASE_DATE,
    MIN_PAYMENTS,
    ORGANISATION_TENANT_ID,
    WorldExists,
    register_oauth_clients,
    seed_world,
)
from syncapp.sandbox.seeding.changes import add_payments
from syncapp.sandbox.seeding.names import normalised
from syncapp.sandbox.seeding.world import SPECIAL_PAYMENTS
from syncapp.sandbox.xero import models as xr
from syncapp.sandbox.xero.payloads import ALLOCATED_DOCUMENT_TYPES
from tests.fixtures_sandbox import seeded_world  # noqa: F401  (the fixture, used by name)


def payments_snapshot() -> list[tuple]:
    return sorted(
        xr.Payment.objects.values_list("payment_id", "amount", "status", "date", "updated_at", "invoice__invoice_id")
    )


def procore_snapshot() -> list[tuple]:
    rows = list(pc.Vendor.objects.values_list("id", "name", "origin_id", "business_id"))
    rows += list(pc.Commitment.objects.values_list("id", "number", "vendor_id", "status", "grand_total"))
    rows += list(pc.Requisition.objects.values_list("id", "invoice_number", "commitment_id", "total_amount"))
    rows += list(pc.ContractPayment.objects.values_list("id", "amount", "origin_id"))
    return sorted(map(str, rows))


def approved_requisitions(vendor: pc.Vendor, invoice_number: str):
    return pc.Requisition.objects.filter(
        commitment__vendor=vendor, commitment__status="Approved", status="approved", invoice_number=invoice_number
    )


@pytest.mark.django_db
def test_the_same_seed_builds_the_same_world():
    first = seed_world(payments=80, seed=7)
    xero, procore = payments_snapshot(), procore_snapshot()
    second = seed_world(payments=80, seed=7, reset=True)
    assert payments_snapshot() == xero
    assert procore_snapshot() == procore
    assert first.cases == second.cases and first.expected == second.expected


@pytest.mark.django_db
def test_a_different_seed_builds_a_different_world():
    seed_world(payments=80, seed=7)
    xero = payments_snapshot()
    seed_world(payments=80, seed=8, reset=True)
    assert {row[0] for row in payments_snapshot()}.isdisjoint({row[0] for row in xero})
    assert [row[1] for row in payments_snapshot()] != [row[1] for row in xero]


@pytest.mark.django_db
def test_the_world_holds_exactly_the_payments_asked_for_within_120_days():
    summary = seed_world(payments=50, seed=1)
    assert xr.Payment.objects.count() == 50 == summary.counts["xero_payments"]
    assert len(summary.expected) == 50
    oldest = DEFAULT_BASE_DATE - dt.timedelta(days=120)
    assert not xr.Payment.objects.filter(date__lt=oldest).exists()
    assert not xr.Payment.objects.filter(date__gt=DEFAULT_BASE_DATE).exists()
    for payment in xr.Payment.objects.select_related("invoice"):
        assert payment.updated_at.date() >= payment.date
        if payment.invoice:
            assert payment.invoice.date <= payment.date


@pytest.mark.django_db
def test_every_case_is_present_even_in_a_small_world():
    summary = seed_world(payments=50, seed=2)
    assert set(summary.cases) == set(CASES)
    assert all(summary.cases[name] for name in CASES), [name for name in CASES if not summary.cases[name]]
    assert set(summary.expected.values()) == {"sent", "blocked", "ignored", "already_sent"}


@pytest.mark.django_db
def test_the_payment_shapes_are_what_their_case_says():
    summary = seed_world(payments=50, seed=2)
    payment = {str(p.payment_id): p for p in xr.Payment.objects.select_related("invoice")}
    for pid in summary.cases["full"]:
        assert payment[pid].amount == payment[pid].invoice.total and payment[pid].invoice.payments.count() == 1
    partial_bills = {payment[pid].invoice for pid in summary.cases["partial"]}
    assert all(2 <= bill.payments.count() <= 3 for bill in partial_bills)
    by_batch = defaultdict(set)
    for pid in summary.cases["batch"]:
        by_batch[payment[pid].batch_payment_id].add(payment[pid].invoice_id)
    assert None not in by_batch and all(len(bills) >= 2 for bills in by_batch.values())

    deleted, replacement = (payment[pid] for pid in summary.cases["reversal"][:2])
    assert (deleted.status, replacement.status) == ("DELETED", "AUTHORISED")
    assert deleted.invoice_id == replacement.invoice_id
    assert deleted.updated_at.date() > deleted.date and replacement.updated_at > deleted.updated_at
    assert deleted.invoice.amount_paid == replacement.amount

    types = {payment[pid].payment_type: payment[pid] for pid in summary.cases["other_payment_types"]}
    assert set(types) == {"APCREDITPAYMENT", "APPREPAYMENTPAYMENT", "APOVERPAYMENTPAYMENT", "ACCRECPAYMENT"}
    assert list(types["APCREDITPAYMENT"].other_document) == ["CreditNote"]
    assert list(types["APPREPAYMENTPAYMENT"].other_document) == ["Prepayment"]
    assert list(types["APOVERPAYMENTPAYMENT"].other_document) == ["Overpayment"]
    assert all(types[name].invoice is None for name in ("APCREDITPAYMENT", "APPREPAYMENTPAYMENT"))
    assert types["ACCRECPAYMENT"].invoice.type == "ACCREC"

    draft = xr.Invoice.objects.get(invoice_id=summary.cases["draft_bill"][0])
    assert draft.status == "DRAFT" and not draft.payments.exists()
    (incomplete,) = summary.cases["incomplete"]
    assert payment[incomplete].invoice.invoice_number == ""


@pytest.mark.django_db
def test_the_vendor_cases_link_only_the_way_their_case_says():
    summary = seed_world(payments=50, seed=4)
    contacts = {str(c.contact_id): c for c in xr.Contact.objects.all()}
    vendors = list(pc.Vendor.objects.all())
    by_origin = {v.origin_id: v for v in vendors if v.origin_id}

    for cid in summary.cases["origin_id_match"]:
        assert by_origin[cid].business_id == contacts[cid].tax_number
    for cid in summary.cases["tax_number_match"]:
        (vendor,) = [v for v in vendors if v.business_id == contacts[cid].tax_number]
        assert cid not in by_origin and normalised(vendor.name) != normalised(contacts[cid].name)
    for cid in summary.cases["name_mismatch"]:
        contact = contacts[cid]
        (vendor,) = [v for v in vendors if normalised(v.name) == normalised(contact.name)]
        assert vendor.name != contact.name and vendor.origin_id == "" and vendor.business_id != contact.tax_number
        assert not [v for v in vendors if v.business_id == contact.tax_number]
    for cid in summary.cases["no_vendor"]:
        contact = contacts[cid]
        assert cid not in by_origin
        assert not [v for v in vendors if v.business_id == contact.tax_number]
        assert not [v for v in vendors if normalised(v.name) == normalised(contact.name)]
    assert len(summary.contact_payments["name_mismatch"]) == 3
    assert {summary.expected[pid] for pid in summary.contact_payments["no_vendor"]} == {"blocked"}


@pytest.mark.django_db
def test_the_invoice_cases_resolve_only_the_way_their_case_says():
    summary = seed_world(payments=50, seed=5)
    payment = {str(p.payment_id): p for p in xr.Payment.objects.select_related("invoice__contact")}

    def vendor_of(pid):
        return pc.Vendor.objects.get(origin_id=payment[pid].invoice.contact.contact_id)

    (pid,) = summary.cases["no_invoice"]
    bill = payment[pid].invoice
    assert not approved_requisitions(vendor_of(pid), bill.invoice_number).exists()
    tracked = bill.line_items[0]["Tracking"][0]["Option"]
    project = pc.Project.objects.get(project_number=tracked.split()[0])
    assert pc.Commitment.objects.filter(vendor=vendor_of(pid), project=project, status="Approved").count() >= 2

    (pid,) = summary.cases["ambiguous_invoice"]
    assert approved_requisitions(vendor_of(pid), payment[pid].invoice.invoice_number).count() == 2

    (pid,) = summary.cases["requisition_origin_id"]
    assert pc.Requisition.objects.filter(origin_id=payment[pid].invoice.invoice_id, status="approved").count() == 1

    (pid,) = summary.cases["foreign_currency"]
    assert payment[pid].invoice.currency_code == "USD" and payment[pid].currency_rate != 1
    (claim,) = approved_requisitions(vendor_of(pid), payment[pid].invoice.invoice_number)
    assert claim.project.currency_iso_code == "AUD"

    (pid,) = summary.cases["overpayment_guard"]
    (claim,) = approved_requisitions(vendor_of(pid), payment[pid].invoice.invoice_number)
    typed_by_hand = claim.payments.filter(origin_id="").aggregate(total=Sum("amount"))["total"]
    assert typed_by_hand + payment[pid].amount > payment[pid].invoice.total

    for pid in summary.cases["already_in_procore"]:
        recorded = pc.ContractPayment.objects.get(origin_id=pid)
        assert recorded.amount == payment[pid].amount and recorded.requisition.invoice_number == (
            payment[pid].invoice.invoice_number
        )


@pytest.mark.django_db
def test_every_ordinary_payment_is_sendable():
    summary = seed_world(payments=120, seed=6)
    ordinary = summary.cases["full"] + summary.cases["partial"] + summary.cases["batch"]
    assert len(ordinary) == 120 - SPECIAL_PAYMENTS
    payments = xr.Payment.objects.filter(payment_id__in=ordinary).select_related("invoice__contact")
    for payment in payments:
        bill = payment.invoice
        vendor = pc.Vendor.objects.get(origin_id=bill.contact.contact_id)
        assert bill.status in ("AUTHORISED", "PAID") and bill.currency_code == "AUD" and bill.invoice_number
        assert approved_requisitions(vendor, bill.invoice_number).count() == 1
        assert not pc.ContractPayment.objects.filter(requisition__invoice_number=bill.invoice_number,
                                                     commitment__vendor=vendor).exists()  # fmt: skip
        assert summary.expected[str(payment.payment_id)] == "sent"


@pytest.mark.django_db
def test_bill_totals_agree_with_their_payments():
    seed_world(payments=200, seed=9)
    # Credit notes, prepayments and overpayments allocated to a bill (stored as Invoice rows of
    # the sandbox's own types) lower its AmountDue: AmountDue = Total - AmountPaid - AmountCredited.
    credited: dict[str, Decimal] = defaultdict(Decimal)
    for bill_id, applied in xr.Invoice.objects.filter(type__in=ALLOCATED_DOCUMENT_TYPES).values_list(
        "reference", "amount_paid"
    ):
        credited[bill_id] += applied
    for bill in xr.Invoice.objects.exclude(type__in=ALLOCATED_DOCUMENT_TYPES).prefetch_related("payments"):
        authorised = sum((p.amount for p in bill.payments.all() if p.status == "AUTHORISED"), Decimal(0))
        assert authorised == bill.amount_paid <= bill.total
        assert bill.amount_due == bill.total - bill.amount_paid - credited[str(bill.invoice_id)]
        assert bill.total == bill.sub_total + bill.total_tax
        if bill.type == "ACCPAY":
            assert sum(Decimal(str(line["LineAmount"])) for line in bill.line_items) == bill.sub_total
            assert all(line["Tracking"][0]["Name"] == "Project" for line in bill.line_items)
        if bill.status == "PAID":
            assert bill.amount_due == 0 and (authorised > 0 or credited[str(bill.invoice_id)] > 0)
        elif bill.status in ("AUTHORISED", "DRAFT"):
            assert bill.amount_due > 0
    for value in xr.Payment.objects.values_list("amount", flat=True):
        assert value > 0 and value == value.quantize(Decimal("0.01"))


@pytest.mark.django_db
def test_procore_ids_are_64_bit():
    seed_world(payments=50, seed=1)
    for model in (pc.Company, pc.User, pc.Project, pc.Vendor, pc.Commitment, pc.Requisition, pc.ContractPayment):
        ids = list(model.objects.values_list("id", flat=True))
        assert ids and all(2**32 < value < 2**53 for value in ids), model.__name__


@pytest.mark.django_db
def test_commitments_stay_well_below_one_per_twenty_payments():
    summary = seed_world(payments=3000, seed=1)
    assert summary.counts["procore_commitments"] < 3000 / 20
    assert 3 <= summary.counts["procore_projects"] <= 12


@pytest.mark.django_db
def test_a_world_too_small_for_every_case_is_refused():
    with pytest.raises(ValueError):
        seed_world(payments=MIN_PAYMENTS - 1, seed=1)
    assert not xr.Payment.objects.exists()


@pytest.mark.django_db
def test_seeding_over_a_world_without_reset_is_refused():
    seed_world(payments=40, seed=1)
    with pytest.raises(WorldExists):
        seed_world(payments=40, seed=2)
    with pytest.raises(CommandError):
        call_command("sandbox_seed", "--payments", "40", "--seed", "2", stdout=StringIO())
    assert SeededWorld.objects.get().seed == 1


@pytest.mark.django_db
def test_if_empty_leaves_an_existing_world_alone(settings):
    out = StringIO()
    call_command("sandbox_seed", "--payments", "40", "--seed", "1", "--if-empty", stdout=out)
    assert "Seeded 40 payments" in out.getvalue()
    before = payments_snapshot()
    settings.SITE_URL = "http://demo.example:9000"
    out = StringIO()
    call_command("sandbox_seed", "--payments", "90", "--seed", "5", "--if-empty", stdout=out)
    assert "left as it is" in out.getvalue()
    assert payments_snapshot() == before and SeededWorld.objects.count() == 1
    # The apps are registered again all the same, so a changed SITE_URL is picked up.
    client = xr.OAuthClient.objects.get(client_id=settings.XERO_CLIENT_ID)
    assert client.redirect_uris == ["http://demo.example:9000/connections/xero/callback/"]


@pytest.mark.django_db
def test_reset_replaces_the_business_data_but_keeps_apps_and_connections(settings):
    seed_world(payments=40, seed=1)
    old = {row[0] for row in payments_snapshot()}
    xero_app = xr.OAuthClient.objects.get(client_id=settings.XERO_CLIENT_ID)
    organisation = xr.Organisation.objects.get(tenant_id=ORGANISATION_TENANT_ID)
    xr.TenantConnection.objects.create(client=xero_app, organisation=organisation)
    out = StringIO()
    call_command("sandbox_seed", "--payments", "45", "--seed", "2", "--reset", stdout=out)
    assert "Seeded 45 payments" in out.getvalue()
    assert xr.Payment.objects.count() == 45 and not old & {row[0] for row in payments_snapshot()}
    assert xr.TenantConnection.objects.filter(client=xero_app, organisation=organisation).exists()
    assert pc.OAuthClient.objects.filter(client_id=settings.PROCORE_CLIENT_ID).exists()
    assert xr.Organisation.objects.count() == 1 and pc.Company.objects.count() == 1
    assert SeededWorld.objects.get().seed == 2


@pytest.mark.django_db
def test_the_product_apps_are_registered_from_settings(settings):
    settings.XERO_CLIENT_SECRET = "first-secret"
    seed_world(payments=40, seed=1)
    settings.XERO_CLIENT_SECRET = "second-secret"
    register_oauth_clients(site_url="http://127.0.0.1:8123/")
    xero_app = xr.OAuthClient.objects.get(client_id=settings.XERO_CLIENT_ID)
    assert xero_app.client_secret == "second-secret"
    assert xero_app.redirect_uris == ["http://127.0.0.1:8123/connections/xero/callback/"]
    assert xero_app.custom_connection_organisation.tenant_id == ORGANISATION_TENANT_ID
    procore_app = pc.OAuthClient.objects.get(client_id=settings.PROCORE_CLIENT_ID)
    assert procore_app.client_secret == settings.PROCORE_CLIENT_SECRET
    assert procore_app.redirect_uris == ["http://127.0.0.1:8123/connections/procore/callback/"]
    assert procore_app.service_account.is_service_account
    assert list(procore_app.installed_in.values_list("id", flat=True)) == [COMPANY_ID]
    assert procore_app.service_account.companies.filter(id=COMPANY_ID).exists()


@pytest.mark.django_db(transaction=True)
def test_the_product_apps_can_read_the_seeded_world_over_http(seeded_world, settings):  # noqa: F811
    with httpx.Client(timeout=10) as http:
        answer = http.post(
            settings.XERO_TOKEN_URL,
            data={"grant_type": "client_credentials", "scope": "accounting.payments.read"},
            auth=(settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET),
        )
        assert answer.status_code == 200, answer.text
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}", "xero-tenant-id": seeded_world.tenant_id}
        answer = http.get(f"{settings.XERO_API_URL}/Payments", params={"pageSize": 1000}, headers=headers)
        assert answer.status_code == 200, answer.text
        ids = {row["PaymentID"] for row in answer.json()["Payments"]}
        assert ids == set(seeded_world.expected)

        answer = http.post(
            f"{settings.PROCORE_LOGIN_URL}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(settings.PROCORE_CLIENT_ID, settings.PROCORE_CLIENT_SECRET),
        )
        assert answer.status_code == 200, answer.text
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}", "Procore-Company-Id": str(COMPANY_ID)}
        answer = http.get(
            f"{settings.PROCORE_API_URL}/rest/v1.0/vendors", params={"company_id": COMPANY_ID}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        assert len(answer.json()) == seeded_world.counts["procore_vendors"]


@pytest.mark.django_db
def test_the_index_page_shows_the_world_its_cases_and_the_switches_to_anyone(client):
    seed_world(payments=40, seed=1)
    Behaviour.set("procore", throttle_rate=0.25)
    page = client.get("/sandbox/")  # not logged in: the page holds no secrets
    assert page.status_code == 200
    html = page.content.decode()
    assert "40 payments, seed 1" in html
    assert '<th scope="row">Payment</th><td class="num">40</td>' in html
    assert '<td><code>reversal</code></td><td class="num">2</td>' in html
    assert "throttle_rate</th><td>0.25</td>" in html
    assert settings_secret_absent(html)


@pytest.mark.django_db
def test_the_index_page_says_when_nothing_is_seeded(client):
    page = client.get("/sandbox/")
    assert page.status_code == 200 and "Not seeded by" in page.content.decode()


def settings_secret_absent(html: str) -> bool:
    from django.conf import settings

    return settings.XERO_CLIENT_SECRET not in html and settings.PROCORE_CLIENT_SECRET not in html


@pytest.mark.django_db
def test_rows_created_after_seeding_get_fresh_ids():
    seed_world(payments=40, seed=1)
    bill = xr.Invoice.objects.filter(type="ACCPAY").first()
    made_later = xr.Payment.objects.create(
        organisation=bill.organisation, invoice=bill, date=DEFAULT_BASE_DATE, amount=Decimal("1.00"),
        bank_amount=Decimal("1.00"), updated_at=bill.updated_at,
    )  # fmt: skip
    assert made_later.pk > max(xr.Payment.objects.exclude(pk=made_later.pk).values_list("pk", flat=True))
    assert xr.Contact.objects.create(organisation=bill.organisation, name="Later Pty Ltd", updated_at=bill.updated_at)


# --- A large company on demand (seeding/company.py) and changes to it (seeding/changes.py) ---------

SMALL_COMPANY = ["--projects", "20", "--commitments", "100", "--invoices", "300", "--payments", "50"]


def seed_small_company(*extra: str) -> str:
    out = StringIO()
    call_command("sandbox_seed", *SMALL_COMPANY, *extra, stdout=out)
    return out.getvalue()


def vendor_contacts() -> dict[int, xr.Contact]:
    """Each vendor's Xero contact, by the link the vendor carries (origin_id = ContactID)."""
    contacts = {str(c.contact_id): c for c in xr.Contact.objects.all()}
    return {vendor.pk: contacts[vendor.origin_id] for vendor in pc.Vendor.objects.all()}


def bills_by_key() -> dict[tuple[int, str], xr.Invoice]:
    return {(bill.contact_id, bill.invoice_number): bill for bill in xr.Invoice.objects.filter(type="ACCPAY")}


@pytest.mark.django_db
def test_a_large_company_has_the_size_asked_for():
    output = seed_small_company()

    assert "Seeded 50 payments" in output
    assert pc.Project.objects.count() == 20
    assert pc.Commitment.objects.count() == 100
    assert pc.Requisition.objects.count() == 300
    assert pc.Vendor.objects.count() == 25 == xr.Contact.objects.count()  # one vendor per 4 commitments
    assert xr.Payment.objects.count() == 50
    assert SeededWorld.objects.get().summary["outcomes"] == {"sent": 50}


@pytest.mark.django_db
def test_every_vendor_of_a_large_company_works_on_a_few_projects_and_every_project_has_commitments():
    seed_small_company("--vendors", "30")
    projects_of = defaultdict(set)
    for vendor_id, project_id in pc.Commitment.objects.values_list("vendor_id", "project_id"):
        projects_of[vendor_id].add(project_id)

    spread = [len(projects) for projects in projects_of.values()]
    assert len(projects_of) == pc.Vendor.objects.count() == 30
    assert all(1 <= n <= 5 for n in spread)
    assert sum(spread) / len(spread) >= 1.5  # a few each, not one each
    assert set(pc.Project.objects.values_list("id", flat=True)) == set().union(*projects_of.values())


@pytest.mark.django_db
def test_a_large_company_has_mostly_approved_commitments_of_both_kinds_and_approved_invoices_with_numbers():
    seed_small_company()
    statuses = Counter(pc.Commitment.objects.values_list("status", flat=True))
    kinds = Counter(pc.Commitment.objects.values_list("kind", flat=True))
    claims = Counter(pc.Requisition.objects.values_list("status", flat=True))
    approved = pc.Requisition.objects.filter(status="approved")

    assert statuses["Approved"] >= 70 and statuses["Approved"] == max(statuses.values())
    assert kinds[pc.Commitment.WORK_ORDER] > kinds[pc.Commitment.PURCHASE_ORDER] > 0
    assert claims["approved"] >= 0.8 * 300
    assert approved.exclude(invoice_number="").count() >= 0.95 * approved.count()
    assert not pc.Requisition.objects.exclude(commitment__status__in=["Approved", "Complete"]).exists()


@pytest.mark.django_db
def test_every_approved_invoice_of_a_large_company_has_its_bill_and_only_those_have_bills():
    seed_small_company()
    contacts = vendor_contacts()
    bills = bills_by_key()
    numbered = pc.Requisition.objects.filter(status="approved").exclude(invoice_number="").select_related("commitment")

    for claim in numbered:
        contact = contacts[claim.commitment.vendor_id]
        bill = bills[(contact.pk, claim.invoice_number)]
        assert bill.total == claim.total_amount and bill.date == claim.billing_date
        assert bill.status in ("AUTHORISED", "PAID")
        project = claim.project
        assert bill.line_items[0]["Tracking"][0]["Option"] == f"{project.project_number} {project.name}"
    assert len(bills) == numbered.count()
    for vendor in pc.Vendor.objects.all():
        assert vendor.business_id == contacts[vendor.pk].tax_number
        claims = pc.Requisition.objects.filter(commitment__vendor=vendor).exclude(invoice_number="")
        numbers = list(claims.values_list("invoice_number", flat=True))
        assert len(numbers) == len(set(numbers))  # one claim per number per vendor


@pytest.mark.django_db
def test_each_payment_of_a_large_company_pays_one_approved_bill_in_full():
    seed_small_company()
    payments = list(xr.Payment.objects.select_related("invoice"))

    assert len({p.invoice_id for p in payments}) == len(payments) == 50
    for payment in payments:
        assert payment.payment_type == "ACCPAYPAYMENT" and payment.status == "AUTHORISED"
        assert payment.amount == payment.invoice.total and payment.invoice.status == "PAID"
        assert payment.date >= payment.invoice.date
    assert not xr.Invoice.objects.filter(status="PAID").exclude(payments__isnull=False).exists()


@pytest.mark.django_db
def test_the_same_company_sizes_and_seed_build_the_same_company():
    seed_small_company()
    xero, procore = payments_snapshot(), procore_snapshot()
    seed_small_company("--reset")
    assert payments_snapshot() == xero and procore_snapshot() == procore


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--projects", "20", "--commitments", "10"], "one commitment per project"),
        (["--projects", "5", "--commitments", "20", "--invoices", "10", "--payments", "11"], "more invoices"),
        (["--commitments", "20"], "needs --projects"),
        (["--projects", "5", "--commitments", "20", "--vendors", "21"], "one commitment per project and per vendor"),
    ],
)
@pytest.mark.django_db
def test_a_large_company_that_cannot_be_built_is_refused_with_a_reason(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("sandbox_seed", *arguments, stdout=StringIO())
    assert not pc.Project.objects.exists()


def procore_rows_changed_since(moment: dt.datetime) -> int:
    return sum(
        model.objects.filter(updated_at__gte=moment).count()
        for model in (pc.Project, pc.Vendor, pc.Commitment, pc.Requisition, pc.ContractPayment)
    )


@pytest.mark.django_db
def test_added_payments_on_existing_invoices_change_only_xero():
    seed_small_company()
    before = timezone.now()
    requisitions = pc.Requisition.objects.count()

    added = add_payments(count=10, projects=3, seed=5)

    payments = xr.Payment.objects.filter(payment_id__in=added.payment_ids).select_related("invoice__contact")
    assert len(added.payment_ids) == payments.count() == 10
    assert len(set(added.project_ids)) == 3
    contacts = vendor_contacts()
    claims = pc.Requisition.objects.filter(pk__in=added.requisition_ids).select_related("commitment")
    assert {claim.project_id for claim in claims} == set(added.project_ids)
    for payment in payments:
        claim = next(c for c in claims if c.invoice_number == payment.invoice.invoice_number)
        assert contacts[claim.commitment.vendor_id] == payment.invoice.contact
        assert payment.amount == payment.invoice.total and payment.invoice.status == "PAID"
        assert payment.updated_at >= before and payment.invoice.updated_at >= before
    assert pc.Requisition.objects.count() == requisitions
    assert procore_rows_changed_since(before) == 0


@pytest.mark.django_db
def test_added_payments_on_new_invoices_bring_approved_claims_and_their_bills_made_now():
    seed_small_company()
    before = timezone.now()

    added = add_payments(count=10, projects=3, new_invoices=True, seed=5)

    claims = pc.Requisition.objects.filter(pk__in=added.requisition_ids).select_related("commitment")
    assert claims.count() == 10 == pc.Requisition.objects.filter(created_at__gte=before).count()
    assert procore_rows_changed_since(before) == 10  # the new claims, nothing else
    assert {claim.project_id for claim in claims} == set(added.project_ids) and len(added.project_ids) == 3
    contacts = vendor_contacts()
    bills = bills_by_key()
    for claim in claims:
        assert claim.status == "approved" and claim.commitment.status in ("Approved", "Complete")
        bill = bills[(contacts[claim.commitment.vendor_id].pk, claim.invoice_number)]
        assert str(bill.invoice_id) in added.bill_ids
        assert bill.total == claim.total_amount and bill.status == "PAID"
        assert bill.payments.get().amount == bill.total
        assert pc.Requisition.objects.filter(commitment__vendor=claim.commitment.vendor,
                                             invoice_number=claim.invoice_number).count() == 1  # fmt: skip


@pytest.mark.django_db
def test_add_payments_from_the_command_line(settings):
    seed_small_company()
    out = StringIO()

    call_command("sandbox_seed", "--add-payments", "4", "--on-projects", "2", "--new-invoices", stdout=out)

    assert "Added 4 payments on new subcontractor invoices of projects" in out.getvalue()
    assert xr.Payment.objects.count() == 54
    with pytest.raises(CommandError, match="no more projects than payments"):
        call_command("sandbox_seed", "--add-payments", "2", "--on-projects", "3", stdout=StringIO())
    with pytest.raises(CommandError, match="in place"):
        call_command("sandbox_seed", "--add-payments", "2", "--reset", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_new_invoices_are_what_a_reader_finds_with_filters_updated_at_over_http(sandbox, settings):
    seed_small_company()
    register_oauth_clients(site_url=sandbox)
    pc.Requisition.objects.update(updated_at=F("updated_at") - dt.timedelta(hours=1))  # seeded an hour ago
    last_read = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=1)
    added = add_payments(count=6, projects=2, new_invoices=True, seed=3)
    until = timezone.now() + dt.timedelta(minutes=1)
    window = f"{last_read:%Y-%m-%dT%H:%M:%SZ}...{until:%Y-%m-%dT%H:%M:%SZ}"

    with httpx.Client(timeout=10) as http:
        token = http.post(
            f"{settings.PROCORE_LOGIN_URL}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(settings.PROCORE_CLIENT_ID, settings.PROCORE_CLIENT_SECRET),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Procore-Company-Id": str(COMPANY_ID)}
        found = []
        for project in pc.Project.objects.all():
            answer = http.get(
                f"{settings.PROCORE_API_URL}/rest/v1.1/requisitions",
                params={"project_id": project.pk, "filters[updated_at]": window, "per_page": 1000},
                headers=headers,
            )
            assert answer.status_code == 200, answer.text
            found += [(project.pk, row["id"]) for row in answer.json()]

    assert sorted(row for _, row in found) == sorted(added.requisition_ids)
    assert {project for project, _ in found} == set(added.project_ids)
