"""The gate in front of the simulated Procore API, over HTTP: tokens, the Procore-Company-Id header,
app installation, rate limits (hourly and spike windows), injected faults and commit-then-fail."""

import time
from types import SimpleNamespace

import httpx
import pytest
from django.conf import settings

from syncapp.sandbox.models import Behaviour
from syncapp.sandbox.procore import ratelimit
from syncapp.sandbox.procore.models import Company, ContractPayment, Token
from syncapp.sandbox.procore.ratelimit import count_call, reset_rate_limits
from tests.sandbox import test_procore_api
from tests.sandbox.test_procore_api import make_token, payment_body

pytestmark = pytest.mark.django_db(transaction=True)
procore_world = test_procore_api.procore_world  # the shared fixture

RATE_HEADERS = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")


def projects(world, **kwargs) -> httpx.Response:
    return world.get("/rest/v1.0/projects", params={"company_id": world.company.pk}, **kwargs)


# --- Tokens and companies ----------------------------------------------------------------------


def test_a_call_without_a_token_is_401(procore_world):
    answer = httpx.get(f"{procore_world.base}/rest/v1.0/me")
    assert answer.status_code == 401
    assert "errors" in answer.json()


def test_every_token_is_401_while_expire_tokens_is_on(procore_world):
    assert projects(procore_world).status_code == 200
    Behaviour.set("procore", expire_tokens=True)
    answer = projects(procore_world)
    assert answer.status_code == 401
    assert "expired" in answer.headers["WWW-Authenticate"]


def test_an_expired_token_is_401(procore_world):
    w = procore_world
    Token.objects.filter(access_token=w.token).update(expires_at="2020-01-01T00:00:00Z")
    assert projects(w).status_code == 401


def test_a_company_scoped_call_without_the_company_header_is_400(procore_world):
    w = procore_world
    answer = httpx.get(
        f"{w.base}/rest/v1.0/projects",
        params={"company_id": w.company.pk},
        headers={"Authorization": f"Bearer {w.token}"},
    )
    assert answer.status_code == 400
    assert "Procore-Company-Id" in answer.json()["errors"]


def test_a_company_where_the_app_is_not_installed_is_403(procore_world):
    w = procore_world
    answer = w.get("/rest/v1.0/projects", params={"company_id": w.other_company.pk}, company=w.other_company)
    assert answer.status_code == 403
    assert answer.json() == {"errors": "App is not connected to this company"}


def test_a_company_the_user_does_not_belong_to_is_403(procore_world):
    w = procore_world
    w.user.companies.remove(w.company)
    assert projects(w).status_code == 403


# --- Rate limits ------------------------------------------------------------------------------------


def test_every_answer_reports_the_rate_limit(procore_world):
    Behaviour.set("procore", spike_limit=25, hourly_limit=3600)
    first = projects(procore_world)
    second = projects(procore_world)
    assert first.headers["X-Rate-Limit-Limit"] == "25"
    assert int(first.headers["X-Rate-Limit-Remaining"]) - int(second.headers["X-Rate-Limit-Remaining"]) == 1
    assert int(first.headers["X-Rate-Limit-Reset"]) >= int(time.time())


def test_the_spike_limit_answers_429_with_headers_and_resets_after_the_window(procore_world, monkeypatch):
    w = procore_world
    Behaviour.set("procore", spike_limit=3, spike_window_seconds=1)
    answers = [projects(w) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    throttled = answers[-1]
    assert all(name in throttled.headers for name in RATE_HEADERS)
    assert throttled.headers["X-Rate-Limit-Remaining"] == "0"
    assert int(throttled.headers["X-Rate-Limit-Reset"]) >= int(time.time())
    assert "Retry-After" not in throttled.headers  # documented for the 503 only
    assert "max number of requests" in throttled.json()["errors"]

    a_window_later = time.time() + 1.1
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: a_window_later))  # the server's clock
    assert projects(w).status_code == 200


def test_failed_calls_count_against_the_limit(procore_world):
    w = procore_world
    Behaviour.set("procore", spike_limit=2, spike_window_seconds=30)
    assert w.get("/rest/v1.0/projects/1", params={"company_id": w.company.pk}).status_code == 404
    assert w.get("/rest/v1.0/contract_payments").status_code == 400
    assert projects(w).status_code == 429


def test_the_hourly_window_is_reported_when_it_is_nearer_to_exhaustion(procore_world):
    Behaviour.set("procore", hourly_limit=4, spike_limit=25)
    headers = [projects(procore_world).headers for _ in range(4)]
    assert (headers[0]["X-Rate-Limit-Limit"], headers[0]["X-Rate-Limit-Remaining"]) == ("4", "3")
    assert headers[3]["X-Rate-Limit-Remaining"] == "0"
    over = projects(procore_world)
    assert over.status_code == 429
    assert over.headers["X-Rate-Limit-Limit"] == "4"
    assert int(over.headers["X-Rate-Limit-Reset"]) - time.time() > 3000  # the hour, not the spike window


def test_the_limiter_counts_per_user_and_app(procore_world):
    w = procore_world
    Behaviour.set("procore", spike_limit=1, spike_window_seconds=30)
    assert projects(w).status_code == 200
    assert projects(w).status_code == 429
    other = make_token(w.client, w.user)  # same user and app: same bucket
    assert projects(w, token=other).status_code == 429
    reset_rate_limits()
    assert projects(w).status_code == 200


def test_the_counters_can_be_reset_over_http(procore_world):
    w = procore_world
    Behaviour.set("procore", spike_limit=1, spike_window_seconds=30)
    assert projects(w).status_code == 200
    assert projects(w).status_code == 429
    reset = httpx.post(w.base.replace("/api", "/control") + "/reset-rate-limits")
    assert reset.status_code == 200
    assert projects(w).status_code == 200


def test_count_call_reports_the_window_that_runs_out_first():
    reset_rate_limits()
    state = count_call(key="k", hourly_limit=100, spike_limit=10, spike_window=10, now=1000.0)
    assert (state.limit, state.remaining, state.reset_at) == (10, 9, 1010)
    for n in range(8):
        count_call(key="k", hourly_limit=100, spike_limit=10, spike_window=10, now=1001.0 + n)
    state = count_call(key="k", hourly_limit=100, spike_limit=10, spike_window=10, now=1010.5)
    assert state.reset_at == 1011  # when the oldest call left in the window (t=1001) slides out
    assert (state.limit, state.remaining) == (10, 1)  # the first call slid out of the window
    state = count_call(key="k", hourly_limit=11, spike_limit=10, spike_window=10, now=1011.0)
    assert (state.limit, state.remaining, state.reset_at) == (11, 0, 4600)  # now the hour is nearer
    reset_rate_limits()


# --- Faults -------------------------------------------------------------------------------------------


def test_an_injected_server_error_is_a_5xx(procore_world):
    Behaviour.set("procore", error_rate=1.0)
    answer = projects(procore_world)
    assert answer.status_code in (500, 502, 503)


def test_an_injected_throttle_is_a_429_with_rate_headers(procore_world):
    Behaviour.set("procore", throttle_rate=1.0)
    answer = projects(procore_world)
    assert answer.status_code == 429
    assert all(name in answer.headers for name in RATE_HEADERS) and "Retry-After" not in answer.headers


def test_a_429_carries_retry_after_only_when_switched_on(procore_world, settings):
    Behaviour.set("procore", throttle_rate=1.0)
    settings.SANDBOX_PROCORE_429_RETRY_AFTER = True
    answer = projects(procore_world)
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1


def test_commit_then_fail_creates_exactly_one_payment_and_answers_500(procore_world):
    w = procore_world
    # The 409 on the blind retry below needs the (unverified, off by default) origin_id uniqueness.
    Company.objects.filter(pk=w.company.pk).update(unique_payment_origin=True)
    Behaviour.set("procore", commit_then_fail="500", commit_then_fail_rate=1.0)
    answer = w.send("POST", "/rest/v1.0/contract_payments", payment_body(w))
    assert answer.status_code == 500
    assert ContractPayment.objects.filter(origin_id="xero-payment-1").count() == 1

    Behaviour.set("procore", commit_then_fail="")
    retry = w.send("POST", "/rest/v1.0/contract_payments", payment_body(w))
    assert retry.status_code == 409  # a blind retry cannot make a second payment
    listing = w.get(
        "/rest/v1.0/contract_payments", params={"project_id": w.project.pk, "contract_id": w.subcontract.pk}
    )
    assert sorted(p["origin_id"] for p in listing.json()) == ["xero-payment-0", "xero-payment-1"]


def test_commit_then_timeout_creates_the_payment_and_the_client_times_out(procore_world, held_hang):
    w = procore_world
    Behaviour.set("procore", commit_then_fail="timeout", commit_then_fail_rate=1.0, hang_seconds=30)
    with pytest.raises(httpx.ReadTimeout):
        w.send("POST", "/rest/v1.0/contract_payments", payment_body(w), timeout=0.5)
    held_hang.released.set()
    assert held_hang.over.wait(10)
    assert ContractPayment.objects.filter(origin_id="xero-payment-1").count() == 1


# --- The web page ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape", ["projects/{project}/commitments/{commitment}", "{project}/project/commitments/{commitment}"]
)
def test_the_commitment_page_lists_its_payments(procore_world, shape):
    w = procore_world
    url = f"{settings.PROCORE_WEB_URL}/" + shape.format(project=w.project.pk, commitment=w.subcontract.pk)
    page = httpx.get(url)
    assert page.status_code == 200
    assert "SC-001" in page.text and "2500.50" in page.text and "xero-payment-0" in page.text
    assert httpx.get(url.replace(str(w.subcontract.pk), str(w.purchase_order.pk + 1))).status_code == 404
