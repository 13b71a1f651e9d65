"""Real-browser fixtures: Playwright (sync API) driving Debian's Chromium against the live server.

Playwright cannot download its own browser here, so it launches /usr/bin/chromium (`make browser`
installs it). Each test gets a fresh profile; screenshots go to artifacts/screenshots/<page>.png.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "pw-for-tests"

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told this is on purpose (the tests' ORM calls are synchronous).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: run `make browser`"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run the browser journeys, not skip them
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # launch() starts Chromium on a fresh throwaway profile of its own (it refuses --user-data-dir),
    # and every test opens a new context: no cookie or cache survives from one test to the next.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, sandbox) -> Iterator:
    """A fresh browser context (no cookies) on a laptop-sized window, pointed at the live server."""
    context = browser.new_context(base_url=sandbox, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def shoot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot of the page as a test artifact (to be looked at, not compared)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.fixture(autouse=True)
def role_groups(django_db_blocker):
    """Transactional tests flush every table, the role groups of the data migration with them."""
    from django.contrib.auth.models import Group

    from syncapp.core.roles import ADMIN, FINANCE

    with django_db_blocker.unblock():
        for name in (ADMIN, FINANCE):
            Group.objects.get_or_create(name=name)
