"""Access tokens that stay alive: refresh with rotation, single-flight, and dead connections that
fail fast. All against the sandbox token servers over HTTP."""

import datetime as dt
import threading

import pytest
from django.db import connections
from django.utils import timezone

from syncapp.connections import oauth, services, tokens
from syncapp.connections.crypto import decrypt
from syncapp.connections.models import Connection, ConnectionStatus
from syncapp.connectors.types import NeedsReconnect
from syncapp.sandbox.procore import models as procore
from syncapp.sandbox.xero import models as xero
from tests.connections.conftest import connection_of, full_flow

pytestmark = pytest.mark.django_db(transaction=True)


def expire(connection: Connection) -> None:
    Connection.objects.filter(pk=connection.pk).update(expires_at=timezone.now() + dt.timedelta(seconds=30))


def test_a_token_far_from_expiry_is_used_without_a_refresh(admin_client, xero_app):
    full_flow(admin_client, "xero")
    connection = connection_of("xero")

    token = tokens.ConnectionTokens(connection).access_token()

    assert token == xero.Token.objects.get().access_token
    assert xero.Token.objects.count() == 1


def test_xero_refresh_rotates_and_the_old_refresh_token_is_dead(admin_client, xero_app):
    full_flow(admin_client, "xero")
    connection = connection_of("xero")
    old_refresh = decrypt(connection.refresh_token_encrypted)
    expire(connection)

    token = tokens.ConnectionTokens(connection).access_token()

    connection.refresh_from_db()
    newest = xero.Token.objects.latest("pk")
    assert token == newest.access_token
    assert decrypt(connection.access_token_encrypted) == newest.access_token
    assert decrypt(connection.refresh_token_encrypted) == newest.refresh_token != old_refresh
    assert connection.expires_at > timezone.now() + dt.timedelta(minutes=25)
    assert xero.Token.objects.get(refresh_token=old_refresh).rotated_at is not None
    with pytest.raises(oauth.GrantRefused):
        oauth.refresh(provider="xero", refresh_token=old_refresh)


def test_procore_refresh_rotates_and_the_old_refresh_token_is_dead(admin_client, procore_app):
    full_flow(admin_client, "procore")
    connection = connection_of("procore")
    old_refresh = decrypt(connection.refresh_token_encrypted)
    expire(connection)

    token = tokens.ConnectionTokens(connection).access_token()

    connection.refresh_from_db()
    assert token == procore.Token.objects.latest("created_at").access_token
    assert decrypt(connection.refresh_token_encrypted) != old_refresh
    with pytest.raises(oauth.GrantRefused):
        oauth.refresh(provider="procore", refresh_token=old_refresh)


def test_a_401_refreshes_once_and_a_stale_401_reuses_the_newer_token(admin_client, procore_app):
    full_flow(admin_client, "procore")
    source = tokens.ConnectionTokens(connection_of("procore"))
    first = source.access_token()

    second = source.refresh_after_unauthorized(first)
    again = source.refresh_after_unauthorized(first)  # another worker's late 401 on the old token

    assert second != first
    assert again == second
    assert procore.Token.objects.count() == 2


def test_a_refused_refresh_marks_the_connection_and_the_next_run_fails_fast(admin_client, xero_app):
    full_flow(admin_client, "xero")
    connection = connection_of("xero")
    xero.Token.objects.update(revoked=True)  # e.g. the app was disconnected inside Xero
    expire(connection)

    with pytest.raises(NeedsReconnect) as refused:
        tokens.ConnectionTokens(connection).access_token()

    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    assert "refused" in connection.status_reason
    assert "refused" in refused.value.message
    calls_before = xero.Token.objects.count()
    with pytest.raises(NeedsReconnect) as fast:
        tokens.ConnectionTokens(connection).access_token()
    assert connection.status_reason in fast.value.message
    assert xero.Token.objects.count() == calls_before
    problem = services.connection_problem(connection.integration)
    assert "Xero needs reconnecting" in problem and connection.status_reason in problem


def test_reconnecting_clears_the_needs_reconnect_mark(admin_client, xero_app):
    full_flow(admin_client, "xero")
    services.mark_needs_reconnect(connection_of("xero"), reason="test says so")

    full_flow(admin_client, "xero")

    connection = connection_of("xero")
    assert connection.status == ConnectionStatus.CONNECTED and connection.status_reason == ""
    assert tokens.ConnectionTokens(connection).access_token()


def test_a_client_credentials_connection_asks_for_a_new_token_instead_of_refreshing(procore_app, procore_company):
    procore_app.service_account = procore.User.objects.create(login="svc", name="Sync Bot", is_service_account=True)
    procore_app.service_account.companies.add(procore_company)
    procore_app.save()
    integration = services.resolve_integration()
    connection = services.connect_headless(integration=integration, provider="procore")
    assert connection.refresh_token_encrypted == ""
    expire(connection)

    token = tokens.ConnectionTokens(connection).access_token()

    assert token == procore.Token.objects.latest("created_at").access_token
    assert procore.Token.objects.count() == 2


def _race(connection: Connection, workers: int) -> tuple[list[str], list[BaseException]]:
    """`workers` threads, each with its own database connection, all needing a token at once."""
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def work():
        try:
            barrier.wait()
            results.append(tokens.ConnectionTokens(connection).access_token())
        except BaseException as exc:  # noqa: B036 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.postgres
def test_four_workers_needing_a_refresh_at_once_cause_exactly_one_refresh(admin_client, xero_app):
    full_flow(admin_client, "xero")
    connection = connection_of("xero")
    expire(connection)

    results, errors = _race(connection, 4)

    assert errors == []
    assert len(results) == 4
    refreshes = xero.Token.objects.filter(rotated_at__isnull=False).count()
    assert refreshes == 1
    newest = xero.Token.objects.latest("pk")
    assert set(results) == {newest.access_token}
    connection.refresh_from_db()
    assert decrypt(connection.refresh_token_encrypted) == newest.refresh_token


@pytest.mark.postgres
def test_without_row_locks_four_workers_still_cause_exactly_one_refresh(admin_client, procore_app, monkeypatch):
    """The SQLite path (a lease claimed by conditional UPDATE), raced for real. It runs on
    PostgreSQL because the test database of SQLite is an in-memory shared cache whose table locks
    fail at once instead of waiting; the demo's SQLite file waits (busy timeout)."""
    full_flow(admin_client, "procore")
    connection = connection_of("procore")
    expire(connection)
    monkeypatch.setattr(tokens, "uses_row_locks", lambda: False)

    results, errors = _race(connection, 4)

    assert errors == []
    assert procore.Token.objects.count() == 2  # the first grant and exactly one refresh
    assert set(results) == {procore.Token.objects.latest("created_at").access_token}


def test_without_row_locks_a_worker_waits_for_the_refresh_another_one_holds(admin_client, procore_app, monkeypatch):
    full_flow(admin_client, "procore")
    connection = connection_of("procore")
    expire(connection)
    monkeypatch.setattr(tokens, "uses_row_locks", lambda: False)
    # Another worker has claimed the refresh and is waiting for Procore's answer.
    Connection.objects.filter(pk=connection.pk).update(refresh_claimed_until=timezone.now() + dt.timedelta(minutes=1))
    theirs = oauth.TokenSet(access_token="their-new-access", refresh_token="their-new-refresh",
                            expires_at=timezone.now() + dt.timedelta(hours=1))
    waits = []

    def other_worker_finishes(seconds):
        waits.append(seconds)
        row = Connection.objects.get(pk=connection.pk)
        assert tokens._store(row, theirs, expected_version=row.token_version)

    monkeypatch.setattr(tokens.time, "sleep", other_worker_finishes)

    token = tokens.ConnectionTokens(connection).access_token()

    assert token == "their-new-access"
    assert len(waits) == 1
    assert procore.Token.objects.count() == 1  # this worker never called the token endpoint


def test_without_row_locks_a_lease_left_by_a_dead_worker_is_taken_over(admin_client, procore_app, monkeypatch):
    full_flow(admin_client, "procore")
    connection = connection_of("procore")
    expire(connection)
    monkeypatch.setattr(tokens, "uses_row_locks", lambda: False)
    Connection.objects.filter(pk=connection.pk).update(refresh_claimed_until=timezone.now() - dt.timedelta(seconds=1))

    token = tokens.ConnectionTokens(connection).access_token()

    assert token == procore.Token.objects.latest("created_at").access_token
    assert Connection.objects.get(pk=connection.pk).refresh_claimed_until is None
