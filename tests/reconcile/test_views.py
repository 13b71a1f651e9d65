"""The reconciliation pages: who may use them, the empty state, the report with its filters and
paging, the live progress (286 when done), Reconcile now, downloads and their audit entries, and
escaping of remote text."""

from __future__ import annotations

import pytest
from django.urls import reverse

from syncapp.connections.models import Connection, ConnectionStatus, Integration
from syncapp.core.models import AuditEntry
from syncapp.reconcile.models import ReconciliationReport, ReportState
from tests.reconcile.conftest import EVIL, line, make_report

pytestmark = pytest.mark.django_db

PAGE = "/reconciliation/"


@pytest.fixture
def integration() -> Integration:
    integration = Integration.objects.create(name="demo")
    for provider, name in (("xero", "Demo Builders Pty Ltd"), ("procore", "Demo Builders (Procore)")):
        Connection.objects.create(
            integration=integration,
            provider=provider,
            status=ConnectionStatus.CONNECTED,
            tenant_id="t-1" if provider == "xero" else "42",
            tenant_name=name,
            access_token_encrypted="x",
        )
    return integration


@pytest.fixture
def report(integration):
    lines = [line("matched", n) for n in range(1, 61)]
    lines += [
        line("missing_in_procore", 70, procore_amount=None, procore_date=None, note="Procore no longer has it"),
        line("by_hand", 71, xero_payment_id="", xero_amount=None, vendor=EVIL, project="Evil Project"),
    ]
    return make_report(integration, lines=lines)


def urls(report: ReconciliationReport) -> list[tuple[str, str]]:
    return [
        ("get", PAGE),
        ("post", reverse("reconciliation-start")),
        ("get", reverse("reconciliation-progress", args=[report.pk])),
        ("get", reverse("reconciliation-download", args=[report.pk, "csv"])),
        ("get", reverse("reconciliation-download", args=[report.pk, "xlsx"])),
    ]


def test_every_page_requires_a_login(client, report):
    for method, url in urls(report):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    assert ReconciliationReport.objects.count() == 1


def test_every_page_refuses_users_without_a_role(client, roleless_user, report):
    client.force_login(roleless_user)
    for method, url in urls(report):
        assert getattr(client, method)(url).status_code == 403, url
    assert ReconciliationReport.objects.count() == 1 and not AuditEntry.objects.exists()


@pytest.mark.parametrize("who", ["finance_client", "admin_client"])
def test_finance_and_admins_see_the_latest_report(request, who, report):
    client = request.getfixturevalue(who)
    response = client.get(PAGE)
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Report #{report.pk}" in html and "Reconcile now" in html
    assert 'aria-current="page">Reconciliation</a>' in html  # the navigation marks where we are
    assert "Missing in Procore" in html and "Procore no longer has it" in html
    assert reverse("reconciliation-download", args=[report.pk, "xlsx"]) in html
    assert "62 lines" in html and "Page 1 of 2" in html  # 50 a page


def test_the_nav_links_to_reconciliation_for_finance(finance_client, integration):
    html = finance_client.get(reverse("home")).content.decode()
    assert f'href="{PAGE}">Reconciliation</a>' in html


def test_before_any_report_the_page_invites_to_run_one(finance_client, integration):
    html = finance_client.get(PAGE).content.decode()
    assert "No reconciliation yet" in html and "Run a reconciliation to compare" in html
    assert "Reconcile now" in html and "download" not in html.lower().split("</header>")[1]


def test_a_vendor_named_like_markup_is_shown_as_text(finance_client, report):
    html = finance_client.get(PAGE, {"status": "by_hand"}).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Sons" in html
    assert "<script>alert(" not in html


def test_the_tiles_filter_the_table_by_status_vendor_and_project(finance_client, report):
    html = finance_client.get(PAGE).content.decode()
    assert f'href="{PAGE}?status=by_hand"' in html  # the tile is a link to the filtered table
    html = finance_client.get(PAGE, {"status": "by_hand"}).content.decode()
    assert "1 line matches the filters" in html and "Entered by hand in Procore" in html
    assert "Procore no longer has it" not in html
    html = finance_client.get(PAGE, {"vendor": "contact-1"}).content.decode()
    assert "21 lines match the filters" in html
    assert '<option value="contact-1" selected>Vendor 1</option>' in html
    html = finance_client.get(PAGE, {"project": "5"}).content.decode()
    assert "62 lines match the filters" in html
    html = finance_client.get(PAGE, {"project": "6"}).content.decode()
    assert "No payment in this scope" in html
    html = finance_client.get(PAGE, {"status": "no-such-status"}).content.decode()
    assert "62 lines" in html  # an unknown status is no filter


def test_the_second_page_of_lines(finance_client, report):
    html = finance_client.get(PAGE, {"page": 2}).content.decode()
    assert "Page 2 of 2" in html and 'rel="prev"' in html


def test_the_per_commitment_totals_and_the_totals_are_shown(finance_client, report):
    html = finance_client.get(PAGE).content.decode()
    assert "By commitment" in html and "SC-001" in html and "Per bill" in html and "INV-0070" in html
    assert "Paid in Xero" in html and "Recorded in Procore" in html


def test_finance_starts_a_reconciliation_queued_for_the_worker(
    finance_client, finance_user, integration, django_capture_on_commit_callbacks
):
    from django_q.models import OrmQ

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = finance_client.post(reverse("reconciliation-start"), {"integration": "demo"})
    report = ReconciliationReport.objects.get()
    assert response.status_code == 302 and response["Location"] == PAGE
    # "Queued" is said by the progress box, which the report replaces when done: no message that
    # would stay on the page after that.
    assert not list(response.wsgi_request._messages)
    assert report.state == ReportState.QUEUED and report.requested_by == finance_user
    assert len(callbacks) == 1 and OrmQ.objects.count() == 1
    entry = AuditEntry.objects.get(action="reconciliation.started")
    assert entry.actor == finance_user and entry.details["report_id"] == report.pk
    # The page now shows the running report, polled, and no second button.
    html = finance_client.get(PAGE).content.decode()
    assert f"Reconciliation #{report.pk} is running" in html
    assert f'hx-get="{reverse("reconciliation-progress", args=[report.pk])}"' in html
    assert '<button type="submit" class="primary">' not in html


def test_a_second_click_shows_the_running_report(admin_client, integration, django_capture_on_commit_callbacks):
    running = ReconciliationReport.objects.create(integration=integration, state=ReportState.RUNNING)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(reverse("reconciliation-start"), follow=True)
    assert ReconciliationReport.objects.count() == 1 and not callbacks
    assert f"Reconciliation #{running.pk} is already running" in response.content.decode()


def test_reconcile_now_refuses_get(finance_client, integration):
    assert finance_client.get(reverse("reconciliation-start")).status_code == 405


def test_reconcile_now_says_why_when_a_connection_is_missing(finance_client, integration):
    Connection.objects.filter(provider="procore").delete()
    response = finance_client.post(reverse("reconciliation-start"), follow=True)
    assert not ReconciliationReport.objects.exists()
    assert "Procore" in response.content.decode()


def test_the_progress_polls_while_running_and_stops_with_the_report_when_done(finance_client, integration):
    report = ReconciliationReport.objects.create(
        integration=integration, state=ReportState.RUNNING, commitments_total=8, commitments_read=2
    )
    url = reverse("reconciliation-progress", args=[report.pk])
    response = finance_client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 of 8 commitments read" in html and f'hx-get="{url}"' in html and 'aria-valuenow="25"' in html
    report.delete()
    done = make_report(integration, lines=[line("matched", 1)])
    response = finance_client.get(reverse("reconciliation-progress", args=[done.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 286  # htmx stops polling
    assert response["HX-Retarget"] == "#reconcile-body"
    html = response.content.decode()
    assert f"Report #{done.pk}" in html and "hx-get" not in html


def test_a_failed_build_says_why_and_keeps_the_last_report(finance_client, report, integration):
    ReconciliationReport.objects.create(
        integration=integration, state=ReportState.FAILED, error="Procore did not answer in time."
    )
    html = finance_client.get(PAGE).content.decode()
    assert "failed" in html and "Procore did not answer in time." in html and f"Report #{report.pk}" in html


@pytest.mark.parametrize("who", ["finance_client", "admin_client"])
@pytest.mark.parametrize("fmt,kind", [("csv", "text/csv"), ("xlsx", "spreadsheetml")])
def test_finance_and_admins_download_a_report_and_it_is_audited(request, who, fmt, kind, report):
    client = request.getfixturevalue(who)
    response = client.get(reverse("reconciliation-download", args=[report.pk, fmt]))
    assert response.status_code == 200 and kind in response["Content-Type"]
    assert 'filename="reconciliation-demo-' in response["Content-Disposition"]
    entry = AuditEntry.objects.get(action="reconciliation.downloaded")
    assert entry.details == {
        "report_id": report.pk,
        "format": fmt,
        "filters": {},
        "file": response["Content-Disposition"].split('filename="')[1].rstrip('"'),
    }
    assert entry.actor is not None


def test_an_unfinished_report_or_unknown_format_is_not_downloadable(finance_client, report, integration):
    running = ReconciliationReport.objects.create(integration=integration, state=ReportState.RUNNING)
    assert finance_client.get(reverse("reconciliation-download", args=[running.pk, "csv"])).status_code == 404
    assert finance_client.get(reverse("reconciliation-download", args=[report.pk, "pdf"])).status_code == 404
    assert not AuditEntry.objects.filter(action="reconciliation.downloaded").exists()


def test_an_earlier_report_can_be_opened(finance_client, report, integration):
    newer = make_report(integration, lines=[line("matched", 1)])
    html = finance_client.get(PAGE).content.decode()
    assert f"Report #{newer.pk}" in html and f"?report={report.pk}" in html
    html = finance_client.get(PAGE, {"report": report.pk}).content.decode()
    assert f"Report #{report.pk}" in html and "An earlier report" in html
