"""Every page needs a login; the roles exist from the first migration."""

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_login_page_shows_a_form_with_csrf_protection(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content


def test_a_finance_user_can_log_in_and_see_home(client, finance_user):
    response = client.post("/login/", {"username": "fin-finance", "password": "pw-for-tests"}, follow=True)
    assert response.status_code == 200
    assert b"fin-finance" in response.content
    assert b"Finance" in response.content


def test_a_user_without_a_role_is_refused(client, roleless_user):
    client.force_login(roleless_user)
    assert client.get("/").status_code == 403


def test_the_finance_and_admin_roles_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Finance", "Admin"}
