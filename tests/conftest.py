"""Fixtures shared by the whole suite: users in each role, and the sandbox served over real HTTP."""

import functools
import threading
import time

import httpx._transports.default
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations

from syncapp.core.roles import ADMIN, FINANCE
from syncapp.sandbox import faults
from syncapp.sandbox.procore import api as procore_api
from syncapp.settings import SERVICE_URLS, sandbox_url
from tests.fixtures_sandbox import seeded_world  # noqa: F401  (a fixture)

# Run by `make test` with pytest-xdist (`-n 4 --dist loadgroup`): the browser and torture tests
# go to one worker, one after the other (one Chromium, and worker processes killed on purpose),
# while the other workers take the rest.
_ONE_WORKER = ("tests/browser/", "tests/torture/")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(_ONE_WORKER):
            item.add_marker(pytest.mark.xdist_group("one_worker"))
    _skip_postgres_only_on_sqlite(items)


def _skip_postgres_only_on_sqlite(items) -> None:
    """Tests marked `postgres` prove guarantees (row locks, concurrent workers) SQLite lacks."""
    if django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


_truncate = PostgresOperations.sql_flush
# Rows post_migrate writes again after every flush: kept as migrate left them, they are found
# instead of re-created (half a second per test).
_REMADE_AFTER_FLUSH = {"django_content_type", "auth_permission"}


def _lock_and_delete(self, style, tables, *, reset_sequences=False, allow_cascade=False) -> list[str]:
    """The statements that empty the tables after a transactional test (live server, threads).

    Django's TRUNCATE of the ~64 tables costs a second or two per test on this machine (a new file
    per table and index); DELETE of the few rows a test wrote costs milliseconds. The end state is
    the same: every table empty but the content types and permissions post_migrate restores, and
    sequences not reset (TRUNCATE without RESTART IDENTITY). The lock waits, as TRUNCATE's does,
    for a transaction a straggling thread still holds, so no row of one test survives into the
    next. Foreign keys are deferred to the commit, so the DELETEs may go in any order."""
    if reset_sequences or not tables:
        return _truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
    names = [self.quote_name(table) for table in tables if table not in _REMADE_AFTER_FLUSH]
    return [
        f"LOCK TABLE {', '.join(names)} IN ACCESS EXCLUSIVE MODE",
        "SET CONSTRAINTS ALL DEFERRED",
        *(f"DELETE FROM {name}" for name in names),
    ]


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    """Every transactional test of the session (pytest-django's TransactionTestCase) flushes so."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PostgresOperations, "sql_flush", _lock_and_delete)
        yield


@pytest.fixture(scope="session", autouse=True)
def _one_tls_context():
    """Every httpx client built during the tests gets the same default TLS context: loading the CA
    bundle for each new client costs 0.05 s idle, 0.4 s on a loaded machine, and a test builds
    several (each connector, each token request). The tests talk plain HTTP to the live server;
    a context is safe to share between connections."""
    default_context = functools.cache(httpx._transports.default.create_ssl_context)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx._transports.default, "create_ssl_context", default_context)
        yield


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
def server_errors_are(monkeypatch):
    """server_errors_are(status): the sandbox's injected server errors (`error_rate`) all answer
    this status instead of 500, 502 or 503 at random. A Procore 503 ("overloaded, come back later")
    pauses a run where a 500 fails it: a test that expects either says which."""

    def pin(status: int) -> None:
        monkeypatch.setattr(faults._random, "choice", lambda statuses: status)

    return pin


class HeldHang:
    """The Procore sandbox's hang (its `time.sleep(hang_seconds)` after a commit) held until the
    test lets go, instead of for a guessed number of seconds: the client's timeout is then sure to
    come first."""

    time = staticmethod(time.time)

    def __init__(self):
        self.released = threading.Event()
        self.over = threading.Event()

    def sleep(self, seconds: float) -> None:
        self.released.wait(seconds)
        self.over.set()


@pytest.fixture
def held_hang(monkeypatch):
    """For a test whose request hangs in the sandbox: the hang ends when the test does, and the
    request has finished before the database is torn down."""
    hang = HeldHang()
    monkeypatch.setattr(procore_api, "time", hang)
    yield hang
    hang.released.set()
    assert hang.over.wait(10), "the sandbox never hung: the test did not reach the hang it set up"


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, closed to every other session before it is dropped.

    The live server's threads keep their database connections between requests on a kept-alive
    HTTP connection (CONN_MAX_AGE), and a client a test did not close keeps its thread: those
    idle sessions made the drop fail ("being accessed by other users") and left the database."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
