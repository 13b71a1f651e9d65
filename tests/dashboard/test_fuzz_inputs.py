"""No 500 from bad input: every page and every action of the product (enumerated from the URLconf,
as an Admin) answers garbage in each parameter it reads, NUL bytes, unknown and out-of-range ids
with a 2xx, 3xx or 4xx. Run it on PostgreSQL too: only there does a NUL byte reach the database
as an error."""

from __future__ import annotations

import importlib
import inspect
import re
import time
from collections.abc import Iterator

import hypothesis
import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import strategies as st

from syncapp.connectors.types import ProcoreVendor
from syncapp.dashboard import procore_catalog
from syncapp.dashboard.filters import PaymentFilterSet
from syncapp.dashboard.forms import AuditFilterForm, ReasonForm
from syncapp.reconcile.models import ReconciliationReport
from syncapp.reconcile.selectors import LineFilters
from syncapp.sync.models import VendorLink
from tests.dashboard.conftest import World

pytestmark = pytest.mark.django_db

GARBAGE = [
    "a\x00b",
    "abc",
    "-1",
    "99999999999999999999999",  # beyond bigint
    "2024-13-45",
    "1e309",  # beyond float
    "²",  # str.isdigit() says yes, int() says no
    "x" * 3000,
]
# A sensible value for each parameter the world knows, so that a request with ONE bad parameter
# gets past the checks of the others and reaches the code behind them.
VALID = {
    "contact_id": "contact-1",
    "vendor_id": "501",
    "xero_invoice_id": "inv-000002",
    "choice": "5:77:",
    "reason": "Paid by cheque outside Xero",
    "reason_code": "procore_refused",
    "next": "/failures/",
    "show": "all",
}
UNKNOWN_IDS = ["999999", "99999999999999999999"]
# What the views read besides their own request.GET/POST look-ups: shared helpers and forms.
SHARED_PARAMS = {"integration", "page"}
FORMS = {form.__name__: set(form.base_fields) for form in (ReasonForm, AuditFilterForm)}
FORMS[PaymentFilterSet.__name__] = set(PaymentFilterSet.base_filters)
READ = re.compile(r"""(?:GET|POST|query)(?:\.get|\.getlist)?\s*[(\[]\s*["'](\w+)["']""")


def _routes(patterns=None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        else:
            yield route, entry


def _product_routes() -> list[tuple[str, URLPattern]]:
    # The sandbox imitates Xero's and Procore's APIs for tests and the demo; it is not the product.
    return [(route, entry) for route, entry in _routes() if not route.startswith("sandbox/")]


def _params_read_by(entry: URLPattern) -> set[str]:
    source = inspect.getsource(importlib.import_module(entry.callback.__module__))
    if "selectors.LineFilters" in source:
        source += inspect.getsource(LineFilters)
    forms = [fields for name, fields in FORMS.items() if name in source]
    return SHARED_PARAMS.union(READ.findall(source), *forms)


@pytest.fixture
def ids(world: World) -> Iterator[dict[str, list[str]]]:
    """The world's ids by URL argument name, with Procore's picker lists cached for its integration."""
    report = ReconciliationReport.objects.create(integration=world.integration, state="succeeded")
    # What Procore offers in the Mappings pickers, as if just read (the catalog's one-minute cache):
    # links and vendor picks then go past "that vendor is not in Procore" to the code behind.
    cache.set(procore_catalog._key(world.integration, "vendors"), [ProcoreVendor(id=501, name="Vendor One")], 600)
    choices = [procore_catalog.Choice(value=VALID["choice"], label="Project 5 / SC-77", vendor_id=501)]
    cache.set(procore_catalog._key(world.integration, "commitments"), choices, 600)
    yield {
        "payment_id": [str(world.failed.pk)],
        "run_id": [str(world.run.pk)],
        "link_id": [str(VendorLink.objects.get().pk)],
        "report_id": [str(report.pk)],
        "pk": [str(c.pk) for c in world.integration.connections.all()],
        "fmt": ["csv", "xlsx"],
    }
    procore_catalog.forget(world.integration)  # a later test may get an integration with this pk


def _urls(route: str, ids: dict[str, list[str]], *, unknown: bool = False) -> list[str]:
    """The route with a real id (or unknown ones) in its <converter:name> parts."""
    names = re.findall(r"<(?:\w+:)?(\w+)>", route)
    if not names:
        return [] if unknown else ["/" + route]
    urls = []
    for i in range(len(UNKNOWN_IDS) if unknown else 1):
        path = route
        for name in names:
            value = (UNKNOWN_IDS[i] if name != "fmt" else "zzz") if unknown else ids[name][0]
            path = re.sub(rf"<(?:\w+:)?{name}>", value, path)
        urls.append("/" + path)
    return urls


def _isolated(method, url: str, data: dict | None = None):
    """One request whose writes are undone after it: every request meets the same world (an
    earlier "disconnect" must not hide a later action's bug), and a database error in one view
    spoils no other."""
    with transaction.atomic():
        response = method(url, data or {})
        transaction.set_rollback(True)
    return response


def _methods(client, url: str) -> list:
    """GET and POST, less the one the view refuses (405) whatever the parameters."""
    return [method for method in (client.get, client.post) if _isolated(method, url).status_code != 405]


@pytest.fixture
def nowhere(settings):
    """Xero and Procore unreachable at once (a closed port): actions that call them fail fast."""
    for name in ("XERO_API_URL", "XERO_TOKEN_URL", "XERO_CONNECTIONS_URL", "PROCORE_API_URL", "PROCORE_LOGIN_URL"):
        setattr(settings, name, "http://127.0.0.1:9")


def _allowed(response) -> bool:
    # A redirect to the login page would mean the session was lost and the view never ran.
    if response.get("Location", "").startswith("/login/"):
        return False
    # /healthz reports an unhealthy system (no worker runs in this test) as a 503 with its JSON.
    unhealthy_report = response.status_code == 503 and response["Content-Type"] == "application/json"
    return response.status_code < 500 or unhealthy_report


def test_the_url_map_is_enumerated():
    routes = [route for route, _ in _product_routes()]
    assert {"audit/", "payments/", "mappings/vendors/create/", "reconciliation/"} <= set(routes)
    assert len(routes) >= 30


def test_every_page_and_action_survives_garbage_in_every_parameter(admin_client, admin_user, ids, nowhere):
    admin_client.raise_request_exception = False  # a 500 is a finding to list, not the end
    started, failures, requests = time.monotonic(), [], 0
    for route, entry in _product_routes():
        params = sorted(_params_read_by(entry))
        for url in _urls(route, ids):
            for method in _methods(admin_client, url):
                base = {name: VALID[name] for name in params if name in VALID}
                for name in params:
                    for value in GARBAGE:
                        response = _isolated(method, url, {**base, name: value})
                        requests += 1
                        if route == "logout/":
                            admin_client.force_login(admin_user)
                        elif not _allowed(response):
                            verb = method.__name__.upper()
                            failures.append(f"{verb} {url} {name}={value[:20]!r}: {response.status_code}")
    assert failures == [], "\n".join(failures)
    print(f"{requests} requests in {time.monotonic() - started:.1f}s")


def test_unknown_and_out_of_range_ids_are_not_found_not_errors(admin_client, ids, nowhere):
    admin_client.raise_request_exception = False
    failures = []
    for route, _ in _product_routes():
        for url in _urls(route, ids, unknown=True):
            for method in (admin_client.get, admin_client.post):
                response = _isolated(method, url)
                if not _allowed(response):
                    failures.append(f"{method.__name__.upper()} {url}: {response.status_code}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("contact_id", ["no-such-contact", "\x00", "x" * 3000])
def test_creating_a_vendor_for_an_unknown_contact_says_so(admin_client, world, nowhere, contact_id):
    response = admin_client.post("/mappings/vendors/create/", {"contact_id": contact_id}, follow=True)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert b"not a Xero contact" in response.content


def _list_pages() -> list[tuple[str, set[str]]]:
    """The pages without ids in their path that answer GET, with the parameters each reads."""
    return [
        ("/" + route, _params_read_by(entry))
        for route, entry in _product_routes()
        if "<" not in route and route not in ("login/", "logout/") and "connect/" not in route
    ]


@pytest.mark.parametrize("path, params", _list_pages(), ids=[path for path, _ in _list_pages()])
def test_random_text_in_the_filters_of_a_list_page_is_never_an_error(admin_client, world, path, params):
    """Hypothesis draws any text (NUL, unicode digits, emoji, lone accents...) for several
    parameters at once, where the sweep above changes one at a time."""
    admin_client.raise_request_exception = False
    drawn = st.dictionaries(st.sampled_from(sorted(params)), st.text(max_size=40), max_size=4)

    @hypothesis.settings(max_examples=25, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(query=drawn)
    def check(query):
        response = _isolated(admin_client.get, path, query)
        assert _allowed(response), f"GET {path} {query!r}: {response.status_code}"

    check()
