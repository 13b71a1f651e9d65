"""/healthz: "ok" for anyone (load balancers, monitors), the full report only for Admins."""

from __future__ import annotations

import ast
import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone

from syncapp.connections.models import Connection, ConnectionStatus, Integration
from syncapp.connections.oauth import TokenSet
from syncapp.connections.services import TenantChoice, mark_needs_reconnect, record_error, save_tokens
from syncapp.core import health, tasks
from syncapp.core.models import WorkerHeartbeat
from syncapp.sync.models import RunState, SyncRun

pytestmark = pytest.mark.django_db

ACCESS_TOKEN = "access-token-that-must-never-leave-3f9c1"
REFRESH_TOKEN = "refresh-token-that-must-never-leave-77ab2"
TENANT_ID = "5b1c0f3e-9d2a-4c7e-8f61-0a2b3c4d5e6f"
XERO_CONNECTION_ID = "c0ffee00-1111-2222-3333-444455556666"


@pytest.fixture
def integration() -> Integration:
    return Integration.objects.create(name="northwind")


@pytest.fixture
def xero(integration) -> Connection:
    return save_tokens(
        integration=integration,
        provider="xero",
        tokens=TokenSet(access_token=ACCESS_TOKEN, refresh_token=REFRESH_TOKEN),
        tenant=TenantChoice(id=TENANT_ID, name="Demo Builders", xero_connection_id=XERO_CONNECTION_ID),
    )


def beat(age: dt.timedelta = dt.timedelta(0)) -> None:
    tasks.beat()
    WorkerHeartbeat.objects.update(beat_at=timezone.now() - age)


def test_it_answers_ok_without_login_and_tells_nothing_more(client, xero):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_finance_users_with_liveness_only(finance_client, xero):
    response = finance_client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_it_answers_ok_to_anyone_even_while_the_worker_is_dead(client):
    # Liveness is the web process's: a load balancer must not take the site down for the worker.
    beat(age=dt.timedelta(hours=1))
    assert client.get("/healthz").status_code == 200


def test_it_answers_503_when_the_database_does_not_answer(client, admin_user, monkeypatch):
    class DownConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    client.force_login(admin_user)
    monkeypatch.setattr(health, "connection", DownConnection())
    for who in (client, client.__class__()):  # the Admin, and someone not logged in
        response = who.get("/healthz")
        assert response.status_code == 503
        assert response.content == b"database unavailable\n"


def test_it_refuses_anything_but_get_and_head(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_it_gives_admins_every_check(admin_client, xero, integration):
    from django_q.tasks import async_task

    beat()
    async_task("syncapp.core.tasks.beat")  # waits in the ORM queue: no cluster runs in tests
    run = SyncRun.objects.create(integration=integration, trigger="button", state=RunState.RUNNING, phase="send")
    response = admin_client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["problems"] == []
    assert body["database"] == "ok"
    assert body["worker"]["status"] == "alive"
    assert body["worker"]["age_seconds"] <= 5
    assert body["queue"] == {"status": "ok", "queued": 1}
    assert body["connections"] == [
        {
            "integration": "northwind",
            "provider": "xero",
            "status": "connected",
            "reason": "",
            "organisation": "Demo Builders",
            "last_success_at": None,
            "last_error_at": None,
            "last_error": "",
        }
    ]
    assert [(r["run"], r["integration"], r["state"], r["phase"]) for r in body["active_runs"]] == [
        (run.pk, "northwind", "running", "send")
    ]


def test_a_dead_worker_makes_it_503_and_is_called_dead(admin_client, xero):
    beat(age=dt.timedelta(minutes=4))
    response = admin_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["worker"]["status"] == "dead"
    assert body["worker"]["age_seconds"] >= 240
    assert "No background worker has taken a task" in body["problems"][0]


def test_a_worker_that_beat_two_minutes_ago_is_alive(admin_client, xero):
    beat(age=dt.timedelta(minutes=2))
    assert admin_client.get("/healthz").json()["worker"]["status"] == "alive"


def test_a_worker_never_seen_is_unhealthy(admin_client):
    response = admin_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"]["status"] == "never seen"


def test_a_connection_that_needs_reconnecting_shows_and_makes_it_503(admin_client, xero):
    beat()
    record_error(xero, message="Xero answered 503 Service Unavailable")
    mark_needs_reconnect(xero, reason="Xero refused the refresh token: reconnect Xero.")
    response = admin_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    [conn] = body["connections"]
    assert conn["status"] == "needs_reconnect"
    assert conn["reason"] == "Xero refused the refresh token: reconnect Xero."
    assert conn["last_error"] == "Xero refused the refresh token: reconnect Xero."
    assert conn["last_error_at"] is not None
    assert body["problems"] == ["northwind: the xero connection needs reconnecting."]


def test_a_passing_error_shows_but_keeps_it_healthy(admin_client, xero):
    beat()
    record_error(xero, message="Xero answered 503 Service Unavailable")
    response = admin_client.get("/healthz")
    assert response.status_code == 200
    [conn] = response.json()["connections"]
    assert conn["status"] == ConnectionStatus.CONNECTED
    assert conn["last_error"] == "Xero answered 503 Service Unavailable"


def test_no_token_secret_or_tenant_id_is_in_the_answer(admin_client, xero, settings):
    beat()
    xero.refresh_from_db()
    content = admin_client.get("/healthz").content.decode()
    secrets = [
        ACCESS_TOKEN,
        REFRESH_TOKEN,
        xero.access_token_encrypted,
        xero.refresh_token_encrypted,
        TENANT_ID,
        XERO_CONNECTION_ID,
        settings.XERO_CLIENT_SECRET,
        settings.PROCORE_CLIENT_SECRET,
        settings.SECRET_KEY,
        *settings.TOKEN_ENCRYPTION_KEYS,
    ]
    assert all(secret for secret in secrets)  # each really is there to look for
    assert [secret for secret in secrets if secret in content] == []


def test_the_beat_and_prune_schedules_are_installed_by_the_migrations():
    from django.utils.module_loading import import_string
    from django_q.models import Schedule

    schedules = {s.name: s for s in Schedule.objects.filter(name__in=["worker-heartbeat", "prune-old-rows"])}
    assert schedules["worker-heartbeat"].schedule_type == Schedule.MINUTES
    assert schedules["worker-heartbeat"].minutes == 1
    # django-q2 passes these to async_task: a successful beat is not kept among the task results.
    assert ast.literal_eval(schedules["worker-heartbeat"].kwargs) == {"q_options": {"save": False}}
    assert schedules["prune-old-rows"].schedule_type == Schedule.DAILY
    assert all(s.repeats == -1 for s in schedules.values())
    for s in schedules.values():
        assert callable(import_string(s.func))


def test_it_answers_plain_http_probes_where_the_site_redirects_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/login/").status_code == 301  # the rest of the site still redirects


def test_a_task_queue_that_does_not_answer_makes_it_503(admin_client, monkeypatch):
    import django_q.brokers

    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    beat()
    monkeypatch.setattr(django_q.brokers, "get_broker", unreachable)
    response = admin_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["queue"] == {"status": "error", "error": "The task queue does not answer (ConnectionError)."}
    assert body["problems"] == ["The task queue does not answer (ConnectionError)."]
