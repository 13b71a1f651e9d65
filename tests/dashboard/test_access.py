"""Who may use each page and action: anonymous -> login, no role -> 403, Finance views and runs a
sync but gets 403 on admin actions (enforced by the view, whatever the page shows), Admin all."""

from __future__ import annotations

import pytest
from django.urls import reverse

from syncapp.connections.models import Integration
from syncapp.core.models import AuditEntry
from syncapp.sync.models import PaymentState, SyncRun
from tests.dashboard.conftest import described_by_missing

FINANCE_PAGES = ["home", "payments", "runs", "settings"]
ADMIN_PAGES = ["failures", "mappings", "mapping-bills", "audit"]


def detail_urls(world) -> list[str]:
    return [
        reverse("payment", args=[world.blocked.pk]),
        reverse("run", args=[world.run.pk]),
        reverse("run-progress", args=[world.run.pk]),
        reverse("run-log", args=[world.run.pk]),
    ]


def admin_posts(world) -> list[tuple[str, dict]]:
    return [
        (reverse("payment-retry", args=[world.failed.pk]), {}),
        (reverse("payment-ignore", args=[world.blocked.pk]), {"reason": "Paid twice by mistake"}),
        (reverse("payment-unignore", args=[world.blocked.pk]), {}),
        (reverse("failures-retry-group"), {"reason_code": "procore_refused"}),
        (reverse("mapping-vendor-link"), {"contact_id": "contact-evil", "vendor_id": "1"}),
        (reverse("mapping-vendor-create"), {"contact_id": "contact-evil"}),
        (reverse("mapping-vendor-confirm", args=[1]), {}),
        (reverse("mapping-vendor-unlink", args=[1]), {}),
        (reverse("mapping-bill-link"), {"xero_invoice_id": "inv-1", "choice": "1:2:"}),
    ]


@pytest.mark.parametrize("name", FINANCE_PAGES + ADMIN_PAGES)
def test_every_page_sends_anonymous_visitors_to_the_login(client, world, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_detail_pages_and_actions_send_anonymous_visitors_to_the_login(client, world):
    for url in detail_urls(world) + [url for url, _ in admin_posts(world)]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


@pytest.mark.parametrize("name", FINANCE_PAGES)
def test_a_user_without_a_role_is_refused(client, roleless_user, world, name):
    client.force_login(roleless_user)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", FINANCE_PAGES)
def test_finance_sees_the_finance_pages(finance_client, world, name):
    assert finance_client.get(reverse(name)).status_code == 200


def test_finance_sees_payment_and_run_details(finance_client, world):
    for url in detail_urls(world):
        assert finance_client.get(url).status_code in (200, 286), url


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_finance_gets_403_on_admin_pages(finance_client, world, name):
    assert finance_client.get(reverse(name)).status_code == 403


def test_finance_gets_403_on_every_admin_action_and_nothing_changes(finance_client, world):
    before = AuditEntry.objects.count()
    for url, data in admin_posts(world):
        assert finance_client.post(url, data).status_code == 403, url
    world.failed.refresh_from_db()
    world.blocked.refresh_from_db()
    assert world.failed.state == PaymentState.FAILED and world.blocked.state == PaymentState.BLOCKED
    assert AuditEntry.objects.count() == before


def test_finance_does_not_see_admin_links_in_the_navigation(finance_client, world):
    html = finance_client.get(reverse("home")).content.decode()
    assert 'href="/payments/"' in html and 'href="/failures/"' not in html and 'href="/audit/"' not in html


@pytest.mark.parametrize("name", FINANCE_PAGES + ADMIN_PAGES)
def test_admin_sees_every_page(admin_client, world, name):
    response = admin_client.get(reverse(name))
    assert response.status_code == 200
    assert 'aria-current="page"' in response.content.decode()


@pytest.mark.parametrize(
    "name", FINANCE_PAGES + ADMIN_PAGES + ["help", "integrations", "reconciliation", "alert-settings", "connections"]
)
def test_every_description_an_element_points_to_is_on_the_page(admin_client, world, name):
    assert described_by_missing(admin_client.get(reverse(name)).content.decode()) == []


def test_actions_refuse_get(admin_client, world):
    assert admin_client.get(reverse("payment-retry", args=[world.failed.pk])).status_code == 405
    assert admin_client.get(reverse("start-sync")).status_code == 405


def test_forms_carry_a_csrf_token_and_posts_without_one_are_refused(world, admin_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    page = client.get(reverse("payment", args=[world.failed.pk])).content.decode()
    assert page.count("csrfmiddlewaretoken") >= 2  # retry and ignore (and log out)
    assert client.post(reverse("payment-retry", args=[world.failed.pk])).status_code == 403
    world.failed.refresh_from_db()
    assert world.failed.state == PaymentState.FAILED


def test_finance_may_start_a_sync_from_home(finance_client, finance_user, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = finance_client.post(reverse("start-sync"), {"integration": "demo"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    run = SyncRun.objects.filter(state="queued").get()
    assert run.requested_by == finance_user


def test_an_action_naming_an_unknown_integration_is_refused_not_applied_to_another(admin_client, db):
    Integration.objects.create(name="default")
    response = admin_client.post(reverse("start-sync"), {"integration": "gone-since"})
    assert response.status_code == 404
    assert not SyncRun.objects.exists()
