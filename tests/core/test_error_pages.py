"""The error pages: the site's look with its navigation, why, and where to go; a refusal is one log
line; Django's admin is not routed."""

from __future__ import annotations

import logging
import sys

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client, RequestFactory

from syncapp import urls
from syncapp.core.errors import server_error
from syncapp.core.logcontext import RefusalWithoutTraceback, TextFormatter
from syncapp.core.roles import ADMIN


@pytest.fixture
def named_admin(db) -> User:
    user = User.objects.create_user("boss", first_name="Bea", last_name="Boss", email="bea@example.com")
    user.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    return user


def test_a_finance_user_on_an_admin_page_is_told_only_admins_can_and_whom_to_ask(finance_client, named_admin):
    response = finance_client.get("/audit/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "Only Admins can open this page." in text
    assert "Ask an Admin: Bea Boss." in text
    assert "bea@example.com" not in text  # names only
    assert 'aria-label="Main"' in text and 'href="/payments/"' in text  # the navigation
    assert 'href="/"' in text and "Go to Home" in text


def test_a_refused_action_says_only_admins_can_do_it(finance_client, named_admin):
    response = finance_client.post("/failures/retry-group/", {"reason_code": "procore_refused"})
    assert response.status_code == 403
    assert "Only Admins can do this." in response.content.decode()


def test_a_user_without_a_role_is_told_which_role_they_need_and_whom_to_ask(roleless_user, client, named_admin):
    client.force_login(roleless_user)
    response = client.get("/payments/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "You need the Finance or Admin role" in text and "Ask an Admin: Bea Boss." in text
    assert "Go to Home" not in text  # Home would refuse them too


def test_a_missing_page_has_the_navigation_and_a_way_home(admin_client):
    response = admin_client.get("/no-such-page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "This page does not exist" in text and "/no-such-page/" in text
    assert 'aria-label="Main"' in text and "Go to Home" in text


def test_django_admin_is_not_routed(admin_client):
    assert admin_client.get("/admin/").status_code == 404
    assert admin_client.get("/admin/login/").status_code == 404


def test_the_server_error_page_needs_neither_the_request_nor_the_database():
    assert urls.handler500 == "syncapp.core.errors.server_error"
    response = server_error(RequestFactory().get("/payments/"))  # no user, no session: none is read
    assert response.status_code == 500
    text = response.content.decode()
    assert "Something went wrong on our side" in text
    assert 'aria-label="Main"' in text and 'href="/payments/"' in text


def test_a_refusal_is_one_log_line_without_a_traceback(finance_client, caplog):
    with caplog.at_level(logging.INFO):
        finance_client.get("/audit/")
    lines = [TextFormatter().format(r) for r in caplog.records if r.name.startswith("django")]
    assert len(lines) == 1, lines
    assert "Forbidden (Permission denied): /audit/" in lines[0]
    assert "\n" not in lines[0]  # no traceback


def test_a_server_error_keeps_its_traceback():
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), None)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    record.status_code = 500
    (refusal,) = [f for f in logging.getLogger("django.request").filters if isinstance(f, RefusalWithoutTraceback)]
    assert refusal.filter(record)
    assert "Traceback" in TextFormatter().format(record)


def test_django_lines_are_printed_once_even_with_debug_on():
    # Django's own console handler (DEBUG only) printed each django.* line beside the root's.
    assert logging.getLogger("django").handlers == []


def test_a_stale_form_gets_the_sites_403_page_saying_what_to_do(finance_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(finance_user)
    response = client.post("/get-all-payments/", {})  # no CSRF token
    assert response.status_code == 403
    text = response.content.decode()
    assert "This form has expired" in text and "reload the page and try again" in text
    assert 'aria-label="Main"' in text
