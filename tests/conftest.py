"""Fixtures shared by the whole suite: users in each role, and the sandbox served over real HTTP."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.db import connection

from syncapp.core.roles import ADMIN, FINANCE
from syncapp.settings import SERVICE_URLS, sandbox_url
from tests.fixtures_sandbox import seeded_world  # noqa: F401  (a fixture)


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` prove guarantees (row locks, concurrent workers) SQLite lacks."""
    if django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _user_in(role: str | None, username: str) -> User:
    user = User.objects.create_user(username=username, password="pw-for-tests")
    if role:
        # get_or_create: transactional tests flush the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def admin_user(db) -> User:
    return _user_in(ADMIN, "ada-admin")


@pytest.fixture
def finance_user(db) -> User:
    return _user_in(FINANCE, "fin-finance")


@pytest.fixture
def roleless_user(db) -> User:
    return _user_in(None, "no-role")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def finance_client(client, finance_user):
    client.force_login(finance_user)
    return client


@pytest.fixture
def sandbox(live_server, settings) -> str:
    """The sandbox Xero and Procore served over HTTP by a live server; every service URL of the
    product points at it. Returns the server's base URL."""
    settings.SITE_URL = live_server.url
    for name in SERVICE_URLS:
        setattr(settings, name, sandbox_url(name, live_server.url))
    return live_server.url


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
