"""What the pages show and do: escaping, the live parts, filters, actions, and query counts that do
not grow with the number of rows."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from syncapp.connections.models import Connection, ConnectionStatus
from syncapp.core.models import AuditEntry
from syncapp.sync.models import PaymentEvent, PaymentState, RunLogLine, RunState, SyncRun
from tests.dashboard.conftest import EVIL, make_payment

ESCAPED = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Sons"


@pytest.mark.parametrize(
    "url",
    [
        lambda w: reverse("payments"),
        lambda w: reverse("payment", args=[w.blocked.pk]),
        lambda w: reverse("failures"),
        lambda w: reverse("mappings"),
        lambda w: reverse("run", args=[w.run.pk]),
        lambda w: reverse("audit"),
    ],
)
def test_a_vendor_named_script_renders_as_text(admin_client, world, url, settings):
    settings.PROCORE_API_URL = "http://127.0.0.1:9"  # Mappings' vendor picker: Procore unreachable is fine
    html = admin_client.get(url(world)).content.decode()
    assert ESCAPED in html
    assert EVIL not in html


# --- Home -----------------------------------------------------------------------------------------


def test_home_shows_counts_linking_to_the_filtered_list(finance_client, world):
    html = finance_client.get(reverse("home")).content.decode()
    assert f'href="{reverse("payments")}?state=blocked"' in html
    assert "Demo Builders Pty Ltd" in html and "Get All Payments" in html


def test_the_button_is_disabled_with_the_reason_when_a_connection_needs_reconnect(finance_client, world):
    Connection.objects.filter(provider="procore").update(
        status=ConnectionStatus.NEEDS_RECONNECT, status_reason="refresh token refused"
    )
    html = finance_client.get(reverse("home")).content.decode()
    assert "disabled" in html and "Procore needs reconnecting" in html
    assert reverse("start-sync") not in html


def test_the_button_shows_the_running_run_instead_of_queuing_another(finance_client, world):
    running = SyncRun.objects.create(integration=world.integration, trigger="button", state=RunState.RUNNING)
    html = finance_client.get(reverse("home")).content.decode()
    assert f"Run #{running.pk} is in progress" in html and reverse("start-sync") not in html
    response = finance_client.post(reverse("start-sync"), {"integration": "demo"})
    assert response.status_code == 302
    assert SyncRun.objects.filter(state__in=["queued", "running"]).count() == 1


def test_the_progress_bar_polls_while_the_run_works_and_stops_when_it_ends(finance_client, world):
    run = SyncRun.objects.create(
        integration=world.integration, trigger="button", state=RunState.RUNNING, progress_done=3, progress_total=12
    )
    url = reverse("run-progress", args=[run.pk])
    response = finance_client.get(url, {"on": "home"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and 'hx-trigger="every 2s"' in html and 'aria-valuenow="25"' in html
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.SUCCEEDED, counts={"sent": 12})
    response = finance_client.get(url, {"on": "home"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 286  # htmx stops polling
    assert "hx-trigger" not in html and 'aria-valuenow="100"' in html and "12 sent" in html
    assert 'id="state-tiles" hx-swap-oob="true"' in html  # Home's counts refresh with it
    assert 'id="sync-action" hx-swap-oob="true"' in html and "Get All Payments" in html  # the button is back


def test_the_run_page_names_the_worker_process_that_ran_it(finance_client, world):
    SyncRun.objects.filter(pk=world.run.pk).update(worker="sync-host-2 pid 4242")

    html = finance_client.get(reverse("run", args=[world.run.pk])).content.decode()

    assert "<dt>Worker</dt>" in html and "sync-host-2 pid 4242" in html


def test_the_log_tail_returns_only_lines_after_the_cursor(finance_client, world):
    run = SyncRun.objects.create(integration=world.integration, trigger="button", state=RunState.RUNNING)
    first = RunLogLine.objects.create(run=run, message="Run started")
    RunLogLine.objects.create(run=run, message="Fetched 3 changed payments")
    response = finance_client.get(reverse("run-log", args=[run.pk]), {"after": first.pk})
    html = response.content.decode()
    assert "Fetched 3 changed payments" in html and "Run started" not in html
    last = RunLogLine.objects.filter(run=run).last()
    assert f"?after={last.pk}" in html and response.status_code == 200
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.SUCCEEDED)
    response = finance_client.get(reverse("run-log", args=[run.pk]), {"after": last.pk})
    assert response.status_code == 286 and "log-poller" not in response.content.decode()


# --- Payments -------------------------------------------------------------------------------------


def test_payments_filter_by_state_and_search_by_invoice_reference_and_ids(finance_client, world):
    def listed(**params) -> str:
        return finance_client.get(reverse("payments"), params).content.decode()

    assert "INV-00002" in listed(state="blocked") and "INV-00001" not in listed(state="blocked")
    assert "INV-00003" in listed(q="INV-00003") and "INV-00001" not in listed(q="INV-00003")
    assert "INV-00001" in listed(q="EFT-1")
    assert "INV-00002" in listed(q="pay-000002")
    assert "INV-00001" in listed(q="9001")  # the Procore payment id
    assert "INV-00003" in listed(amount_min="102.50") and "INV-00001" not in listed(amount_min="102.50")
    assert "No payment matches these filters" in listed(q="nothing-like-this")


def test_the_result_bar_counts_in_words(finance_client, world):
    def bar(**params) -> str:
        html = finance_client.get(reverse("payments"), params).content.decode()
        return html[html.index('class="resultbar"') :].split("</span>")[0]

    assert "1 payment matches the filters" in bar(state="failed")
    assert "3 payments match the filters" in bar(q="INV-0000")
    assert bar().endswith("3 payments")  # no filter chosen: a plain count


def test_payments_sort_and_page(finance_client, world):
    for n in range(10, 70):
        make_payment(world.integration, n)
    html = finance_client.get(reverse("payments"), {"sort": "amount"}).content.decode()
    assert html.index("INV-00001") < html.index("INV-00002")
    assert "Showing 1–50 of 63" in html and "page=2" in html
    html = finance_client.get(reverse("payments"), {"sort": "amount", "page": 2}).content.decode()
    assert "Showing 51–63 of 63" in html and "INV-00069" in html


def test_an_htmx_filter_returns_only_the_results(finance_client, world):
    response = finance_client.get(reverse("payments"), {"state": "failed"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "INV-00003" in html and "<html" not in html


def test_a_sort_redrawn_by_htmx_is_handed_to_the_filter_form(finance_client, world):
    redrawn = finance_client.get(reverse("payments"), {"sort": "amount"}, headers={"HX-Request": "true"})
    assert '<input type="hidden" name="sort" value="amount" id="f-sort" hx-swap-oob="true">' in redrawn.content.decode()
    page = finance_client.get(reverse("payments"), {"sort": "amount"}).content.decode()
    assert page.count('id="f-sort"') == 1  # the full page holds the form's own input only


def test_page_queries_do_not_grow_with_rows(admin_client, world, django_assert_max_num_queries):
    def count_queries(url: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        cache.clear()  # the same cold cache in both measurements
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    urls = [
        reverse("home"),
        reverse("payments"),
        reverse("runs"),
        reverse("failures"),
        reverse("audit"),
        reverse("payment", args=[world.blocked.pk]),
    ]
    before = {url: count_queries(url) for url in urls}
    for n in range(100, 160):
        make_payment(
            world.integration,
            n,
            state=PaymentState.FAILED if n % 2 else PaymentState.BLOCKED,
            reason_code="procore_refused" if n % 2 else "vendor_not_linked",
        )
        PaymentEvent.objects.create(payment=world.blocked, kind="checked", message=f"check {n}")
        SyncRun.objects.create(integration=world.integration, trigger="button", state=RunState.SUCCEEDED)
        AuditEntry.objects.create(action="x", summary=f"{n}", actor=None)
    for url in urls:
        cache.clear()
        with django_assert_max_num_queries(before[url]):
            admin_client.get(url)


# --- Actions ----------------------------------------------------------------------------------------


def test_an_admin_retries_a_failed_payment_and_it_is_recorded(admin_client, admin_user, world):
    response = admin_client.post(reverse("payment-retry", args=[world.failed.pk]))
    assert response.status_code == 302
    world.failed.refresh_from_db()
    assert world.failed.state == PaymentState.NEW
    assert AuditEntry.objects.filter(action="payment.retried", actor=admin_user).exists()
    assert PaymentEvent.objects.filter(payment=world.failed, kind="retried").exists()


def test_ignoring_needs_a_reason(admin_client, world):
    admin_client.post(reverse("payment-ignore", args=[world.blocked.pk]), {"reason": ""})
    world.blocked.refresh_from_db()
    assert world.blocked.state == PaymentState.BLOCKED
    admin_client.post(reverse("payment-ignore", args=[world.blocked.pk]), {"reason": "Paid by hand in Procore"})
    world.blocked.refresh_from_db()
    assert world.blocked.state == PaymentState.IGNORED and "Paid by hand" in world.blocked.message


def test_retry_all_in_a_group_retries_only_that_groups_failed_payments(admin_client, world):
    other = make_payment(world.integration, 50, state=PaymentState.FAILED, reason_code="transient")
    same = make_payment(world.integration, 51, state=PaymentState.FAILED, reason_code="procore_refused")
    html = admin_client.get(reverse("failures")).content.decode()
    assert "Retry all 2" in html and "Retry all 1" in html
    admin_client.post(reverse("failures-retry-group"), {"reason_code": "procore_refused"})
    for payment in (world.failed, same, other):
        payment.refresh_from_db()
    assert world.failed.state == same.state == PaymentState.NEW and other.state == PaymentState.FAILED


def test_the_next_parameter_cannot_send_people_off_site(admin_client, world):
    response = admin_client.post(reverse("payment-retry", args=[world.failed.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("payment", args=[world.failed.pk])


def test_the_audit_log_filters_by_action(admin_client, world):
    html = admin_client.get(reverse("audit"), {"action": "sync.started"}).content.decode()
    assert "Sync started for" in html
    assert "Sync started for" not in admin_client.get(reverse("audit"), {"action": "other"}).content.decode()
