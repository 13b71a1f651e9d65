"""The audit log reads as words: action labels, the bill, commitment and vendor an entry is about
instead of raw ids (also for entries written before the services named them), "vendor created in
Procore" said as such; filters by date range, user and action in the URL, kept by paging; its
downloads hold the rows the page shows and are audited themselves."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io

import openpyxl
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.core import audit
from syncapp.core.audit import ACTION_LABELS
from syncapp.core.models import AuditEntry
from syncapp.dashboard import audit_log, procore_catalog
from syncapp.sync.models import LinkHow, VendorLink, XeroBillRecord, XeroContactRecord
from tests.dashboard.conftest import World, make_payment


def page(client, **params) -> str:
    response = client.get(reverse("audit"), params)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def shown_ids(client, **params) -> list[int]:
    return [entry.pk for entry in client.get(reverse("audit"), params).context["entries"]]


def at(entry: AuditEntry, when: dt.datetime) -> AuditEntry:
    AuditEntry.objects.filter(pk=entry.pk).update(at=when)
    entry.at = when
    return entry


# --- Words, not codes and ids -------------------------------------------------------------------------


def test_every_action_the_code_records_has_a_label():
    import pathlib
    import re

    import syncapp

    recorded = set()
    for path in pathlib.Path(syncapp.__file__).parent.rglob("*.py"):
        text = path.read_text()
        recorded |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', text))
        recorded |= set(re.findall(r'"([a-z_]+\.[a-z_]+)" if ', text)) | set(
            re.findall(r'else "([a-z_]+\.[a-z_]+)"', text)
        )
    assert recorded and recorded <= set(ACTION_LABELS), recorded - set(ACTION_LABELS)


def test_a_retry_is_shown_by_its_label_and_its_bill_not_by_ids(admin_client, world: World):
    admin_client.post(reverse("payment-retry", args=[world.failed.pk]))
    text = page(admin_client)
    assert '<span title="payment.retried">Payment retried</span>' in text
    assert "Retried the payment of 103.00 AUD on bill INV-00003 (Vendor 3)" in text
    assert world.failed.xero_payment_id not in text
    assert f'href="{reverse("payment", args=[world.failed.pk])}"' in text


def test_entries_written_before_names_are_shown_with_the_bill_and_commitment(admin_client, world: World):
    # As the services wrote them until now: raw ids in the summary, ids in the details.
    audit.record(
        action="payment.ignored",
        summary=f"Ignored Xero payment {world.blocked.xero_payment_id}: paid by cheque",
        integration=world.integration,
        payment_id=world.blocked.pk,
    )
    XeroBillRecord.objects.create(
        integration=world.integration, invoice_id="inv-000001", invoice_number="INV-00001", status="AUTHORISED"
    )
    world.sent.commitment_number = "SC-077"
    world.sent.save(update_fields=["commitment_number"])
    audit.record(
        action="bill.linked",
        summary="Linked Xero bill inv-000001 to Procore commitment #77",
        integration=world.integration,
        xero_invoice_id="inv-000001",
        procore_commitment_id=77,
    )
    text = page(admin_client)
    assert "Ignored the payment on bill INV-00002: paid by cheque" in text
    assert "Linked bill INV-00001 to Procore commitment SC-077" in text
    assert "Bill INV-00001 → commitment SC-077" in text
    assert world.blocked.xero_payment_id not in text and "inv-000001" not in text and "#77" not in text


def test_linking_a_bill_is_recorded_with_the_bill_number_and_the_commitment_picked(admin_client, world: World):
    XeroBillRecord.objects.create(
        integration=world.integration,
        invoice_id="inv-000002",
        invoice_number="INV-00002",
        contact_name="Acme Pty Ltd",
        status="AUTHORISED",
    )
    label = "Harbour Tower · SC-077 Formwork (no invoice)"
    cache.set(procore_catalog._key(world.integration, "commitments"), [procore_catalog.Choice("5:77:", label, 501)])
    try:
        admin_client.post(reverse("mapping-bill-link"), {"xero_invoice_id": "inv-000002", "choice": "5:77:"})
    finally:
        procore_catalog.forget(world.integration)
    entry = AuditEntry.objects.get(action="bill.linked")
    assert entry.summary == f"Linked bill INV-00002 (Acme Pty Ltd) to Procore commitment {label}"
    assert f"Bill INV-00002 → commitment {label}" in page(admin_client)


def test_a_vendor_made_in_procore_from_a_contact_is_logged_as_created(admin_user, world: World):
    from syncapp.connectors.types import ProcoreVendor
    from syncapp.sync import services

    class Procore:  # answers as the connector does after Procore's 201 (see tests/sync/test_world.py)
        def create_vendor(self, *, name, origin_id, notes):
            return ProcoreVendor(id=9123, name=name)

    XeroContactRecord.objects.create(integration=world.integration, contact_id="contact-new", name="Brand New Pty Ltd")
    link = services.create_vendor_from_contact(
        integration=world.integration, xero_contact_id="contact-new", procore=Procore(), actor=admin_user
    )
    assert VendorLink.objects.get(pk=link.pk).how == LinkHow.CREATED
    [entry] = AuditEntry.objects.filter(action__startswith="vendor.")
    assert entry.action == "vendor.created" and entry.actor == admin_user
    assert (
        entry.summary
        == "Created Procore vendor 'Brand New Pty Ltd' from Xero contact 'Brand New Pty Ltd' and linked them"
    )
    assert audit_log.describe([entry])[0].label == "Vendor created in Procore"


def test_a_vendor_picked_by_hand_is_still_logged_as_linked(admin_user, world: World):
    from syncapp.sync import services

    services.link_vendor(
        integration=world.integration, xero_contact_id="contact-1", procore_vendor_id=501, vendor_name="Vendor One"
    )
    assert AuditEntry.objects.filter(action="vendor.linked").count() == 1
    assert VendorLink.objects.get(xero_contact_id="contact-1").how == LinkHow.MANUAL


def test_an_unknown_action_code_still_reads_as_words():
    assert audit.action_label("report.mailed_out") == "Report mailed out"


# --- Filters --------------------------------------------------------------------------------------------


@pytest.fixture
def history(world: World, admin_user, finance_user, settings) -> dict[str, AuditEntry]:
    """Entries on three days, by two people and the system, on a site whose days are not UTC's."""
    settings.TIME_ZONE = "Australia/Sydney"
    today = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    return {
        "old": at(
            audit.record(action="sync.started", summary="Sync started", actor=finance_user),
            today - dt.timedelta(days=10),
        ),
        "mid": at(
            audit.record(action="payment.retried", summary="Retried one", actor=admin_user),
            today - dt.timedelta(days=3),
        ),
        "new": at(audit.record(action="sync.started", summary="Scheduled sync", actor=None), today),
        "late": at(  # the last minute of yesterday in the site's timezone: still yesterday
            audit.record(action="settings.changed", summary="Changed", actor=admin_user),
            today.replace(hour=23, minute=59) - dt.timedelta(days=1),
        ),
    }


def test_the_log_filters_by_date_range_both_days_included(admin_client, history):
    today = timezone.localdate()
    ids = shown_ids(
        admin_client,
        date_from=(today - dt.timedelta(days=3)).isoformat(),
        date_to=(today - dt.timedelta(days=1)).isoformat(),
    )
    assert ids == [history["late"].pk, history["mid"].pk]


def test_the_log_filters_by_user_and_by_the_system(admin_client, admin_user, history):
    assert set(shown_ids(admin_client, user=admin_user.username)) == {history["mid"].pk, history["late"].pk}
    system = shown_ids(admin_client, user=audit_log.SYSTEM)
    assert history["new"].pk in system and history["old"].pk not in system and history["mid"].pk not in system


def test_the_log_filters_by_action_and_offers_actions_by_label(admin_client, history, finance_user):
    assert shown_ids(admin_client, action="sync.started", user=finance_user.username) == [history["old"].pk]
    text = page(admin_client, action="sync.started")
    assert '<option value="sync.started" selected>Sync started</option>' in text
    assert '<option value="payment.retried">Payment retried</option>' in text


def test_bad_filter_values_are_dropped_not_errors(admin_client, history):
    assert len(shown_ids(admin_client, date_from="2024-13-45", user="x" * 200)) == AuditEntry.objects.count()


def test_a_filter_nothing_matches_says_so(admin_client, history):
    assert "Nothing matches these filters" in page(admin_client, action="integration.removed")


def test_paging_keeps_the_filters(admin_client, admin_user, world):
    for n in range(55):
        audit.record(action="payment.retried", summary=f"retry {n}", actor=admin_user)
    audit.record(action="sync.started", summary="not this one", actor=admin_user)
    response = admin_client.get(reverse("audit"), {"action": "payment.retried", "user": admin_user.username})
    next_url = response.context["pager"]["next_url"]
    assert "action=payment.retried" in next_url and f"user={admin_user.username}" in next_url
    second = admin_client.get(reverse("audit") + next_url)
    assert [e.summary for e in second.context["entries"]] == [f"retry {n}" for n in range(4, -1, -1)]


def test_finance_cannot_see_or_download_the_log(finance_client, history):
    assert finance_client.get(reverse("audit")).status_code == 403
    assert finance_client.get(reverse("audit-export", args=["csv"])).status_code == 403
    assert not AuditEntry.objects.filter(action="audit.downloaded").exists()


# --- Downloads ------------------------------------------------------------------------------------------


def test_the_log_downloads_hold_the_rows_the_page_shows_under_the_same_filters(admin_client, admin_user, history):
    params = {"action": "sync.started"}
    shown = shown_ids(admin_client, **params)
    response = admin_client.get(reverse("audit-export", args=["csv"]), params)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["When", "Who", "Action", "About", "What", "Integration", "Action code", "Entry id"]
    assert [int(row[-1]) for row in rows[1:]] == shown
    by_id = {int(row[-1]): row for row in rows[1:]}
    assert by_id[history["new"].pk][1:3] == ["System", "Sync started"]
    assert by_id[history["old"].pk][1] == history["old"].actor.username

    response = admin_client.get(reverse("audit-export", args=["xlsx"]), params)
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[-1] for row in values] == shown
    new = next(row for row in values if row[-1] == history["new"].pk)
    assert new[0] == timezone.localtime(history["new"].at).replace(tzinfo=None)  # a real time, the site's
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:H{len(shown) + 1}"

    downloads = AuditEntry.objects.filter(action="audit.downloaded", actor=admin_user).order_by("id")
    assert [(d.details["format"], d.details["rows"], d.details["filters"]) for d in downloads] == [
        ("csv", len(shown), params),
        ("xlsx", len(shown), params),
    ]


def test_an_unfiltered_log_download_holds_everything_up_to_itself(admin_client, history):
    before = AuditEntry.objects.count()
    response = admin_client.get(reverse("audit-export", args=["csv"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]
    assert len(rows) == before and AuditEntry.objects.count() == before + 1
    assert "Audit log downloaded" in page(admin_client)


def test_the_log_page_offers_downloads_with_its_filters(admin_client, history):
    text = page(admin_client, action="sync.started", page="1")
    assert "/audit/download.csv?action=sync.started" in text and "/audit/download.xlsx?action=sync.started" in text


def test_an_entry_about_a_payment_that_is_gone_names_it_without_a_dead_link(admin_client, admin_user, world):
    integration = Integration.objects.create(name="gone")
    payment = make_payment(integration, 7)
    audit.record(action="payment.retried", summary="Retried", actor=admin_user, payment_id=payment.pk)
    integration.delete()  # its payments go with it
    text = page(admin_client)
    assert f"Payment #{payment.pk}" in text
    assert f'href="{reverse("payment", args=[payment.pk])}"' not in text


@pytest.mark.django_db
def test_entries_about_a_report_a_connection_or_an_unknown_bill_are_named_by_what_they_carry():
    page = [
        AuditEntry(action="reconciliation.created", summary="Report made", details={"report_id": 7}),
        AuditEntry(action="connection.connected", summary="Connected", details={"provider": "procore"}),
        AuditEntry(action="bill.linked", summary="Linked Xero bill abc", details={"xero_invoice_id": "abc"}),
        AuditEntry(action="settings.changed", summary="Changed", details={"provider": "elsewhere"}),
        AuditEntry(action="settings.changed", summary="Changed", details=["not", "a", "dict"]),
    ]
    described = audit_log.describe(page)
    assert [entry.about for entry in described] == ["Reconciliation #7", "Procore", "Bill abc", "", ""]
    assert described[2].text == "Linked Xero bill abc"  # no number found: the id stays
    assert [entry.payment_id for entry in described] == [None] * 5
