"""The main pages at phone (390 px), tablet (768 px) and desktop (1440 px) widths: nothing pushes the
page sideways (wide tables scroll inside their card), and on a phone the navigation folds into a
menu button that opens it. A screenshot of each page at each width, for people to look at."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in, shoot
from tests.dashboard.conftest import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    ("/", "home", "Overview"),
    ("/payments/", "payments", "Payments"),
    ("/failures/", "failures", "Failure queue"),
    ("/mappings/", "mappings", "Mappings"),
    ("/connections/", "connections", "Connections"),
    ("/help/", "help", "How it works"),
]
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("width,height", [(390, 844), (768, 1024), (1440, 900)])
def test_the_main_pages_fit_the_width_without_sideways_scrolling(browser, sandbox, admin_user, width, height):
    make_world()
    context = browser.new_context(base_url=sandbox, viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        log_in(page, admin_user.username)
        for path, name, heading in PAGES:
            page.goto(path)
            assert page.get_by_role("heading", name=heading, exact=True).is_visible()
            shoot(page, f"responsive-{name}-{width}")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} at {width} px is {overflow} px too wide"
            if width >= 768 and name == "payments":  # every column shown, the State column not cut
                hidden = page.evaluate("(w => w.scrollWidth - w.clientWidth)(document.querySelector('.table-wrap'))")
                assert hidden <= 0, f"the payments table hides {hidden} px at {width} px"
    finally:
        context.close()


def test_on_a_phone_the_navigation_is_a_menu_the_button_opens(browser, sandbox, admin_user):
    make_world()
    context = browser.new_context(base_url=sandbox, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, admin_user.username)
        page.goto("/payments/")
        button = page.get_by_role("button", name="Menu")
        payments_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Payments", exact=True)
        assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
        assert not payments_link.is_visible()  # folded away
        button.click()
        assert button.get_attribute("aria-expanded") == "true"
        assert payments_link.is_visible()
        assert page.get_by_role("button", name="Log out").is_visible()
        assert page.evaluate(FITS)
        shoot(page, "responsive-menu-open-390", full_page=False)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Failures", exact=True).click()
        page.wait_for_url("**/failures/")
        assert not page.get_by_role("button", name="Log out").is_visible()  # a new page starts folded
    finally:
        context.close()


def test_on_a_desktop_there_is_no_menu_button(browser, sandbox, admin_user):
    context = browser.new_context(base_url=sandbox, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        log_in(page, admin_user.username)
        assert not page.get_by_role("button", name="Menu").is_visible()
        assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Payments").is_visible()
    finally:
        context.close()


def test_without_javascript_a_phone_shows_the_navigation_and_no_button(browser, sandbox, admin_user):
    context = browser.new_context(base_url=sandbox, viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, admin_user.username)
        page.goto("/payments/")
        assert not page.get_by_role("button", name="Menu").is_visible()
        assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Payments").is_visible()
    finally:
        context.close()
