"""Every main page in a real browser, as Admin, with a screenshot of each for people to look at."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in, shoot
from tests.dashboard.conftest import EVIL, make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_logs_in_and_sees_home(page, admin_user):
    make_world()
    page.goto("/")
    assert "/login/" in page.url  # every page needs a login
    shoot(page, "login")
    log_in(page, admin_user.username)
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert page.get_by_role("link", name="Home").get_attribute("aria-current") == "page"
    assert page.get_by_role("button", name="Get All Payments").is_enabled()
    shoot(page, "home")


@pytest.mark.parametrize(
    "path,name,heading",
    [
        ("/payments/", "payments", "Payments"),
        ("/runs/", "runs", "Runs"),
        ("/failures/", "failures", "Failure queue"),
        ("/mappings/", "mappings", "Mappings"),
        ("/audit/", "audit", "Audit log"),
        ("/settings/", "settings", "Settings"),
    ],
)
def test_each_main_page_renders_in_the_browser(page, admin_user, path, name, heading):
    make_world()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, admin_user.username)
    page.goto(path)
    assert page.get_by_role("heading", name=heading, exact=True).is_visible()
    if name in ("payments", "failures", "mappings"):
        # The vendor named like markup shows as text and runs nothing.
        assert page.locator("td", has_text=EVIL).first.is_visible()
    assert dialogs == []
    shoot(page, name)


@pytest.mark.parametrize("path,name", [("/", "home-tablet"), ("/payments/", "payments-tablet")])
def test_pages_fit_a_tablet_without_sideways_scrolling(browser, sandbox, admin_user, path, name):
    make_world()
    context = browser.new_context(base_url=sandbox, viewport={"width": 820, "height": 1180})  # iPad Air
    page = context.new_page()
    try:
        log_in(page, admin_user.username)
        page.goto(path)
        nav = page.get_by_role("navigation", name="Main")
        assert nav.get_by_role("link", name="Payments", exact=True).is_visible()  # the nav is still there
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shoot(page, name)
    finally:
        context.close()
