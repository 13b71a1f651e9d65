"""Home open with no run notices a run started elsewhere (here: created as a schedule would) and
shows its progress card without a reload; the card then follows the run, and the next run too."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from syncapp.connections.models import Integration
from syncapp.dashboard.views import home
from syncapp.sync.models import RunState, SyncRun
from tests.browser.conftest import log_in, shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_run_started_elsewhere_appears_on_an_open_home_page(page, admin_user, monkeypatch):
    monkeypatch.setattr(home, "WATCH_POLL", "1s")  # the page asks every 12 s; the test need not wait
    integration = Integration.objects.create(name="demo")
    log_in(page, admin_user.username)
    page.goto("/")
    expect(page.locator(".run-progress")).to_have_count(0)
    page.evaluate("window.stillTheSamePage = true")

    run = SyncRun.objects.create(integration=integration, trigger="schedule", state=RunState.QUEUED)
    expect(page.locator(f"#run-progress-{run.pk} .run-step")).to_have_text("Queued: waiting for a worker to start it…")
    SyncRun.objects.filter(pk=run.pk).update(
        state=RunState.RUNNING, started_at=timezone.now(), phase="send", progress_done=3, progress_total=10
    )
    expect(page.locator(f"#run-progress-{run.pk} .run-step")).to_have_text("Sending to Procore…")
    shoot(page, "home-run-started-elsewhere")
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.SUCCEEDED, finished_at=timezone.now(), counts={"sent": 10})
    expect(page.locator(f"#run-progress-{run.pk} .run-step")).to_have_text("Every payment handled")

    following = SyncRun.objects.create(integration=integration, trigger="webhook", state=RunState.QUEUED)
    expect(page.locator(f"#run-progress-{following.pk}")).to_be_visible()
    expect(page.locator(".run-progress")).to_have_count(1)
    assert page.evaluate("window.stillTheSamePage") is True  # no reload
