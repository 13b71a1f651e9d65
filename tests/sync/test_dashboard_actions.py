"""The dashboard's ways out for the sync engine's stuck cases: closing a reversal that needs
attention (done by hand, or retry), the failure queue listing those and payments a stopped run left
"sending", unlinking a confirmed vendor, dead runs shown as failed, and a run's final outcomes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from syncapp.core.models import AuditEntry
from syncapp.sync.models import LinkHow, PaymentState, RunState, SyncRun, VendorLink
from tests.dashboard.conftest import make_payment, make_world


@pytest.fixture
def world(db):
    world = make_world()
    world.attention = make_payment(
        world.integration,
        4,
        xero_status="DELETED",
        state=PaymentState.NEEDS_ATTENTION,
        reason_code="reversal_refused",
        message="The payment was deleted in Xero, but Procore refused to delete it: locked",
        fix="Delete payment #9004 in Procore by hand, then mark the reversal done here.",
        procore_payment_id=9004,
        procore_commitment_id=77,
        procore_project_id=5,
    )
    dead = SyncRun.objects.create(integration=world.integration, trigger="button", state=RunState.FAILED)
    world.left_sending = make_payment(world.integration, 5, state=PaymentState.SENDING, claimed_by_run=dead)
    return world


def reversal_posts(world) -> list[str]:
    return [
        reverse("payment-reversal-done", args=[world.attention.pk]),
        reverse("payment-reversal-retry", args=[world.attention.pk]),
    ]


def test_finance_gets_403_on_the_reversal_actions_and_the_unlink_and_nothing_changes(finance_client, world):
    link = VendorLink.objects.get(xero_contact_id="contact-1")
    for url in [*reversal_posts(world), reverse("mapping-vendor-unlink", args=[link.pk])]:
        assert finance_client.post(url).status_code == 403, url
    world.attention.refresh_from_db()
    link.refresh_from_db()
    assert world.attention.state == PaymentState.NEEDS_ATTENTION and link.how == LinkHow.TAX_NUMBER
    assert not AuditEntry.objects.filter(action__startswith="payment.reversal").exists()


def test_the_reversal_actions_refuse_get_and_a_post_without_the_csrf_token(admin_user, world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    for url in reversal_posts(world):
        assert browser.get(url).status_code == 405
        assert browser.post(url).status_code == 403
    world.attention.refresh_from_db()
    assert world.attention.state == PaymentState.NEEDS_ATTENTION


def test_an_admin_marks_a_reversal_done_by_hand_and_it_is_recorded(admin_client, admin_user, world):
    response = admin_client.post(reverse("payment-reversal-done", args=[world.attention.pk]))
    assert response.status_code == 302
    world.attention.refresh_from_db()
    assert world.attention.state == PaymentState.REVERSED and world.attention.reason_code == ""
    assert AuditEntry.objects.filter(action="payment.reversal_done", actor=admin_user).count() == 1
    assert world.attention.events.filter(kind="reversed", actor=admin_user).exists()


def test_an_admin_retries_a_reversal_and_the_next_run_deletes_it_again(admin_client, admin_user, world):
    admin_client.post(reverse("payment-reversal-retry", args=[world.attention.pk]))
    world.attention.refresh_from_db()
    assert world.attention.state == PaymentState.SENT  # the reversal step picks sent + deleted up
    assert AuditEntry.objects.filter(action="payment.reversal_retried", actor=admin_user).count() == 1
    # A second click has nothing to retry: said, not done twice.
    response = admin_client.post(reverse("payment-reversal-retry", args=[world.attention.pk]), follow=True)
    assert "cannot be done now" in response.content.decode()
    assert AuditEntry.objects.filter(action="payment.reversal_retried").count() == 1


def test_the_payment_page_offers_the_reversal_actions_to_admins_only(admin_user, finance_user, world):
    url = reverse("payment", args=[world.attention.pk])
    done = reverse("payment-reversal-done", args=[world.attention.pk])
    pages = {}
    for user in (admin_user, finance_user):
        browser = Client()
        browser.force_login(user)
        pages[user.username] = browser.get(url).content.decode()
    assert done in pages[admin_user.username]
    assert reverse("payment-reversal-retry", args=[world.attention.pk]) in pages[admin_user.username]
    assert done not in pages[finance_user.username]


def test_the_failure_queue_lists_reversals_needing_attention_and_payments_left_sending(admin_client, world):
    page = admin_client.get(reverse("failures")).content.decode()
    assert "Procore refused to delete it" in page
    assert reverse("payment-reversal-done", args=[world.attention.pk]) in page
    assert "Left half-sent by a run that stopped" in page
    assert reverse("payment", args=[world.left_sending.pk]) in page


def test_a_payment_a_running_run_is_sending_is_not_in_the_failure_queue(admin_client, world):
    running = SyncRun.objects.create(
        integration=world.integration, trigger="button", state=RunState.RUNNING, heartbeat_at=timezone.now()
    )
    world.left_sending.claimed_by_run = running
    world.left_sending.save()
    page = admin_client.get(reverse("failures")).content.decode()
    assert "Left half-sent" not in page


def test_an_admin_unlinks_a_confirmed_vendor_and_it_is_recorded(admin_client, admin_user, world):
    link = VendorLink.objects.get(xero_contact_id="contact-1")
    assert link.confirmed
    response = admin_client.post(reverse("mapping-vendor-unlink", args=[link.pk]), follow=True)
    assert "Unlinked" in response.content.decode()
    link.refresh_from_db()
    assert link.how == LinkHow.UNLINKED and not link.confirmed and link.linked_by == admin_user
    entry = AuditEntry.objects.get(action="vendor.unlinked")
    assert entry.actor == admin_user and "Vendor One" in entry.summary
    # The mappings page shows it as not linked, with the link form, and offers no second unlink.
    page = admin_client.get(reverse("mappings") + "?show=all").content.decode()
    assert reverse("mapping-vendor-unlink", args=[link.pk]) not in page
    assert "Unlinked from" in page


def test_the_mappings_page_offers_unlink_for_a_confirmed_link(admin_client, world):
    link = VendorLink.objects.get(xero_contact_id="contact-1")
    page = admin_client.get(reverse("mappings") + "?show=all").content.decode()
    assert reverse("mapping-vendor-unlink", args=[link.pk]) in page


def test_a_run_whose_worker_died_shows_as_failed_not_running(finance_client, world):
    SyncRun.objects.filter(state=RunState.RUNNING).delete()
    run = SyncRun.objects.create(
        integration=world.integration,
        trigger="button",
        state=RunState.RUNNING,
        started_at=timezone.now() - dt.timedelta(minutes=30),
        heartbeat_at=timezone.now() - dt.timedelta(minutes=10),
    )
    response = finance_client.get(reverse("run-progress", args=[run.pk]))
    assert response.status_code == 286  # htmx stops polling: the run is over
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "stopped responding" in response.content.decode()


def test_a_finished_run_says_its_final_outcomes_in_plain_words(finance_client, world):
    run = SyncRun.objects.create(
        integration=world.integration,
        trigger="button",
        state=RunState.SUCCEEDED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        counts={"sent": 23, "blocked": 10, "skipped": 5, "already_in_procore": 2},
    )
    page = finance_client.get(reverse("run-progress", args=[run.pk])).content.decode()
    assert "Finished: 23 sent, 2 already in Procore, 10 blocked, 5 not for Procore." in page
