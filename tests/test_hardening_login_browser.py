"""Login throttling as a person meets it in a real browser: after a few wrong passwords the login
page says the log-in is locked and until when, and the right password does not get in."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.browser.conftest import PASSWORD, browser, page, role_groups, shoot  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _try(tab, username: str, password: str) -> None:
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_load_state()


def test_wrong_passwords_lock_the_login_and_the_page_says_until_when(page, finance_user):  # noqa: F811
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
