"""Hardening as a real browser meets it: the Content-Security-Policy blocks nothing on the main
pages (htmx polling included) and what moved out of inline handlers still works; after a few wrong
passwords the login page says the log-in is locked and until when."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from syncapp.connections.models import Integration
from syncapp.sync.models import RunState, SyncRun
from tests.browser.conftest import PASSWORD, log_in, shoot
from tests.dashboard.conftest import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch_policy(tab) -> list[str]:
    """Every violation the browser reports, from the DOM event and from the console."""
    seen: list[str] = []
    tab.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    tab.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => console.error('Content Security Policy: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return seen


def test_the_main_pages_break_no_rule_of_the_policy(page, admin_user):
    world = make_world()
    active = SyncRun.objects.create(
        integration=Integration.objects.create(name="busy"),
        state=RunState.RUNNING,
        started_at=timezone.now(),
        phase="send",
        progress_done=3,
        progress_total=10,
    )
    violations = _watch_policy(page)
    log_in(page, admin_user.username)
    for path in ("/", "/payments/", f"/payments/{world.blocked.pk}/", f"/runs/{world.run.pk}/",
                 "/failures/", "/mappings/", "/audit/", "/settings/", "/reconciliation/", "/connections/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    # A running run's bar is polled by htmx every second: let it swap a few times.
    page.goto(f"/runs/{active.pk}/")
    with page.expect_response(lambda r: "/progress/" in r.url):
        pass
    assert page.locator(".progress-fill").first.get_attribute("width") == "30%"
    assert violations == []


def test_the_outcome_bar_draws_each_outcome_in_proportion(page, admin_user):
    world = make_world()  # its run: 1 sent, 1 blocked, 1 failed
    log_in(page, admin_user.username)
    page.goto(f"/runs/{world.run.pk}/")
    widths = page.locator("svg.outcomes rect").evaluate_all("rects => rects.map(r => r.getBBox().width)")
    assert len(widths) == 3 and max(widths) - min(widths) < 1
    total = page.locator("svg.outcomes").evaluate("svg => svg.getBoundingClientRect().width")
    assert abs(sum(widths) - total) < 3  # the segments fill the bar


def test_choosing_another_integration_still_switches_the_page(page, admin_user):
    make_world()
    Integration.objects.create(name="second")
    violations = _watch_policy(page)
    log_in(page, admin_user.username)
    page.goto("/payments/")
    page.get_by_label("Integration").select_option("second")
    page.wait_for_url("**/payments/?integration=second")
    assert violations == []


def _try(tab, username: str, password: str) -> None:
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_load_state()


def test_wrong_passwords_lock_the_login_and_the_page_says_until_when(page, finance_user):
    page.goto("/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _try(page, finance_user.username, "not-my-password")
        assert page.get_by_role("alert").inner_text().startswith("Your username and password didn't match")
    _try(page, finance_user.username, "not-my-password")
    alert = page.get_by_role("alert")
    assert "Log-in locked for 15 minutes, until" in alert.inner_text()
    shoot(page, "login-locked")
    _try(page, finance_user.username, PASSWORD)
    assert "/login/" in page.url
    assert "Log-in locked" in page.get_by_role("alert").inner_text()
