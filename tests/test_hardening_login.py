"""Login throttling: wrong passwords lock a username (from any address) and an address (for any
username) for a cool-off, and the login page says so."""

import datetime as dt

import axes.handlers.proxy
import pytest
from django.conf import settings
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"  # tests/conftest.py gives every user this one
LIMIT = settings.AXES_FAILURE_LIMIT


def _login(client, username: str, password: str, address: str = "198.51.100.10"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _fail(client, username: str, times: int, address: str = "198.51.100.10"):
    return [_login(client, username, "wrong", address) for _ in range(times)]


def test_the_limit_is_a_handful_of_tries():
    assert 3 <= LIMIT <= 10


def test_wrong_passwords_below_the_limit_only_say_they_did_not_match(client, finance_user):
    responses = _fail(client, "fin-finance", LIMIT - 1)
    assert [r.status_code for r in responses] == [200] * (LIMIT - 1)
    assert b"didn't match" in responses[-1].content
    assert b"locked" not in responses[-1].content


def test_the_last_allowed_wrong_password_locks_the_login_and_says_for_how_long(client, finance_user):
    response = _fail(client, "fin-finance", LIMIT)[-1]
    assert response.status_code == 429
    page = response.content.decode()
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    assert f"Log-in locked for {minutes} minutes, until " in page
    assert "Too many wrong passwords for this username or from this address" in page
    assert 'name="password"' in page  # still the login page, in the site's layout
    assert "Log out" not in page and "Payment Sync" in page


def test_the_right_password_is_refused_while_locked(client, finance_user):
    _fail(client, "fin-finance", LIMIT)
    response = _login(client, "fin-finance", PASSWORD)
    assert response.status_code == 429
    assert b"Log-in locked" in response.content
    assert not _logged_in(client)
    assert client.get("/").status_code == 302  # still sent to the login page


def test_the_username_is_locked_from_every_address(client, finance_user):
    for i in range(LIMIT):
        _login(client, "fin-finance", "wrong", address=f"203.0.113.{i + 1}")
    response = _login(client, "fin-finance", PASSWORD, address="192.0.2.200")
    assert response.status_code == 429 and not _logged_in(client)


def test_an_address_that_tries_many_usernames_is_locked_for_every_username(client, finance_user):
    for i in range(LIMIT):
        _login(client, f"guess-{i}", "wrong", address="203.0.113.66")
    response = _login(client, "fin-finance", PASSWORD, address="203.0.113.66")
    assert response.status_code == 429 and not _logged_in(client)


def test_other_users_at_other_addresses_are_not_affected(client, finance_user, admin_user):
    _fail(client, "fin-finance", LIMIT, address="203.0.113.9")
    response = _login(client, "ada-admin", PASSWORD, address="192.0.2.44")
    assert response.status_code == 302 and _logged_in(client)


def test_the_login_opens_again_after_the_cool_off(client, finance_user, settings, monkeypatch):
    settings.AXES_COOLOFF_TIME = dt.timedelta(seconds=1)
    _fail(client, "fin-finance", LIMIT)
    assert _login(client, "fin-finance", PASSWORD).status_code == 429
    after_the_cool_off = timezone.now() + dt.timedelta(seconds=1.2)
    monkeypatch.setattr(axes.handlers.proxy, "now", lambda: after_the_cool_off)  # the clock axes stamps attempts with
    response = _login(client, "fin-finance", PASSWORD)
    assert response.status_code == 302 and _logged_in(client)


def test_a_right_password_forgives_the_earlier_typos(client, finance_user):
    _fail(client, "fin-finance", LIMIT - 1)
    assert _login(client, "fin-finance", PASSWORD).status_code == 302
    client.post("/logout/")
    _fail(client, "fin-finance", LIMIT - 1)
    assert _login(client, "fin-finance", PASSWORD).status_code == 302


def test_behind_a_proxy_each_client_address_counts_on_its_own(client, finance_user, admin_user, settings):
    settings.PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}  # every request arrives from the proxy
    for _ in range(LIMIT):
        client.post("/login/", {"username": "nobody", "password": "x"}, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)
    locked = client.post("/login/", {"username": "ada-admin", "password": PASSWORD},
                         HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)
    assert locked.status_code == 429
    other = client.post("/login/", {"username": "fin-finance", "password": PASSWORD},
                        HTTP_X_FORWARDED_FOR="198.51.100.77", **proxy)
    assert other.status_code == 302 and _logged_in(client)


def test_a_forged_forwarded_address_does_not_dodge_the_limit(client, finance_user, settings):
    settings.PROXY_COUNT = 1
    for i in range(LIMIT):
        # The client writes its own X-Forwarded-For; the proxy appends the address it really saw.
        forged = f"192.0.2.{i + 1}, 203.0.113.5"
        client.post("/login/", {"username": f"guess-{i}", "password": "x"}, HTTP_X_FORWARDED_FOR=forged,
                    REMOTE_ADDR="10.0.0.2")
    response = client.post("/login/", {"username": "fin-finance", "password": PASSWORD},
                           HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.5", REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 429


def test_without_a_proxy_a_forwarded_header_is_ignored(client, finance_user):
    for i in range(LIMIT):
        client.post("/login/", {"username": f"guess-{i}", "password": "x"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
                    REMOTE_ADDR="203.0.113.8")
    response = client.post("/login/", {"username": "fin-finance", "password": PASSWORD}, REMOTE_ADDR="203.0.113.8")
    assert response.status_code == 429
