"""People with email addresses in each role, and a run that fails at once (no connections)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from syncapp.connections.models import Integration
from syncapp.core.roles import ADMIN, FINANCE
from syncapp.sync.models import SyncRun
from syncapp.sync.runs import execute_run, start_run
from tests.sync.conftest import fast_retries, world  # noqa: F401  (the sandbox world, for test_world_alerts)


def person(username: str, role: str | None, *, email: str = "", active: bool = True, superuser: bool = False) -> User:
    user = User.objects.create_user(
        username=username, password="pw-for-tests", email=email, is_active=active, is_superuser=superuser
    )
    if role:
        # get_or_create: transactional tests flush the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def people(db) -> dict[str, User]:
    """Who may get mail: two Admins with an address (one is a superuser without the group), and
    people who must never get the Admins' alerts."""
    return {
        "admin": person("ada", ADMIN, email="ada@example.com"),
        "superuser": person("root", None, email="root@example.com", superuser=True),
        "admin_without_email": person("alan", ADMIN),
        "inactive_admin": person("gone", ADMIN, email="gone@example.com", active=False),
        "finance": person("fin", FINANCE, email="fin@example.com"),
    }


ADMINS = ["ada@example.com", "root@example.com"]


@pytest.fixture
def integration(db) -> Integration:
    return Integration.objects.create(name="northwind")


def failing_run(integration: Integration) -> SyncRun:
    """A real run that fails at once: the integration has no connections."""
    run, created = start_run(integration=integration, trigger="command")
    assert created
    return execute_run(run.pk)
