"""Two integrations, two workers: runs of different integrations proceed in parallel, one
integration never has two runs, and every payment lands in its own Procore company once.

Real worker processes (`manage.py qcluster` with Q_WORKERS=2, started by the torture suite's
harness) against the sandbox served by the live server: the first organisation and company
(`seed_world`) and a second pair (`seed_second_company`), each with its own world of payments.
Procore's origin_id uniqueness is off, so what keeps a payment from being sent twice is the
product alone.
"""

from __future__ import annotations

import pytest

from syncapp.connections.models import Integration
from syncapp.sync.models import ACTIVE_RUN_STATES, RunState, SyncRun
from tests.torture.harness import IN_PROCORE, Workers, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RUN_TIMEOUT = 300


@pytest.fixture
def workers(sandbox, settings, tmp_path):
    settings.SYNC_RETRY_BASE_SECONDS = 0.01
    started = Workers(site_url=sandbox, log_dir=tmp_path, default_env={"HTTP_TIMEOUT": "5"})
    try:
        yield started
    finally:
        started.end_all()  # before the database is flushed: no worker may hold a lock on it


def connect_second_xero(client, name: str) -> None:
    """The second organisation through the Connect button of that integration (authorization code:
    a Xero custom connection reaches one organisation only, the first)."""
    from syncapp.sandbox.seed import SECOND_TENANT_ID
    from tests.connections.conftest import consent, local_path, start_flow

    back = consent(start_flow(client, "xero", name), organisations=[str(SECOND_TENANT_ID)])
    response = client.get(local_path(back))
    assert response.status_code == 302, response.content[:500]
    if "/choose/" in response["Location"]:  # the sign-in reaches both organisations: pick the second
        response = client.post(response["Location"], {"tenant": str(SECOND_TENANT_ID)})
        assert response.status_code == 302, response.content[:500]


def two_connected_integrations(sandbox: str, client):
    from syncapp.connections.services import connect_headless
    from syncapp.sandbox.models import Behaviour
    from syncapp.sandbox.procore import ratelimit
    from syncapp.sandbox.procore.models import Company
    from syncapp.sandbox.seed import (
        COMPANY_ID,
        SECOND_COMPANY_ID,
        register_oauth_clients,
        seed_second_company,
        seed_world,
    )

    first = seed_world(payments=60, seed=21, reset=True)
    second = seed_second_company(payments=60, seed=22)
    register_oauth_clients(site_url=sandbox)
    Company.objects.update(unique_payment_origin=False)
    Behaviour.set("xero", minute_limit=10_000, day_limit=100_000)
    Behaviour.set("procore", hourly_limit=100_000, spike_limit=10_000)
    ratelimit.reset_rate_limits()

    north = Integration.objects.create(name="northwind", label="Northwind")
    connect_headless(integration=north, provider="xero")
    connect_headless(integration=north, provider="procore", company_id=str(COMPANY_ID))
    south = Integration.objects.create(name="southbank", label="Southbank")
    connect_second_xero(client, "southbank")
    connect_headless(integration=south, provider="procore", company_id=str(SECOND_COMPANY_ID))
    return (north, first, COMPANY_ID), (south, second, SECOND_COMPANY_ID)


def problems_in_company(summary, company_id: int, other_summary) -> list[str]:
    """Every payment this world expects in Procore, there once, in this company; none of the other
    world's payments here."""
    from syncapp.sandbox.procore.models import ContractPayment

    here: dict[str, int] = {}
    ours = ContractPayment.objects.filter(project__company_id=company_id).exclude(origin_id="")  # "": entered by hand
    for origin in ours.values_list("origin_id", flat=True):
        here[origin] = here.get(origin, 0) + 1
    should = {pid for pid, outcome in summary.expected.items() if outcome in IN_PROCORE}
    problems = [f"{pid} x{n} in company {company_id}" for pid, n in here.items() if n > 1]
    problems += [f"{pid} missing from company {company_id}" for pid in sorted(should - set(here))]
    problems += [
        f"{pid} of the other company is in company {company_id}" for pid in other_summary.expected if pid in here
    ]
    problems += [
        f"{pid} ({summary.expected[pid]}) should not be in Procore"
        for pid in here
        if pid in summary.expected and pid not in should
    ]
    return problems


def test_two_integrations_run_at_once_on_two_workers_and_each_payment_lands_once_in_its_own_company(
    sandbox, workers, client, admin_user
):
    from syncapp.sync.runs import request_run

    client.force_login(admin_user)
    (north, first, first_company), (south, second, second_company) = two_connected_integrations(sandbox, client)
    cluster = workers.qcluster(workers=2, LOG_LEVEL="INFO")
    wait_until(lambda: "running" in cluster.output() or not cluster.alive(), timeout=60, what="qcluster to start")
    assert cluster.alive(), cluster.tail()

    north_run, created_north = request_run(integration=north)
    south_run, created_south = request_run(integration=south)
    again, created_again = request_run(integration=north)  # a second click while its run is on

    assert created_north and created_south and not created_again and again.pk == north_run.pk

    def both_ended() -> bool:
        return not SyncRun.objects.filter(state__in=ACTIVE_RUN_STATES).exists()

    wait_until(both_ended, timeout=RUN_TIMEOUT, interval=0.2, what="both runs to end")
    workers.stop_cluster(cluster)

    runs = {run.integration_id: run for run in SyncRun.objects.all()}
    assert SyncRun.objects.count() == 2, list(SyncRun.objects.values("pk", "integration__name", "state"))
    a, b = runs[north.pk], runs[south.pk]
    assert (a.state, b.state) == (RunState.SUCCEEDED, RunState.SUCCEEDED), (a.error, b.error, cluster.tail())
    # In parallel: each started before the other ended, in two worker processes.
    assert a.started_at < b.finished_at and b.started_at < a.finished_at, (
        a.started_at,
        a.finished_at,
        b.started_at,
        b.finished_at,
    )
    assert a.worker and b.worker and a.worker != b.worker
    problems = problems_in_company(first, first_company, second) + problems_in_company(second, second_company, first)
    assert problems == []
    sent = [p for s in (first, second) for p, outcome in s.expected.items() if outcome == "sent"]
    assert len(sent) > 60  # both worlds had payments to send, not only one
