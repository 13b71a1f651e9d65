"""How close does ProcoreClient's pacing get to Procore's spike limit, and how many 429s does it meet?

Starts the sandbox in a separate `manage.py runserver` on a free port (SANDBOX_ENABLED=true, a
throwaway SQLite file), builds a company and a service-account app with the sandbox ORM, sets the
spike limit, then calls GET /rest/v1.0/projects (one call each) for a while and prints the achieved
calls/s against the ceiling (spike_limit / window) and the 429 count, and writes them with their
targets to bench/RESULTS.md (bench/report.py).

    .venv/bin/python bench/procore_pacing.py --spike-limit 25 --window 10 --seconds 60
    .venv/bin/python bench/procore_pacing.py --no-pacing --seconds 30      # what 429s look like without it
    DATABASE_URL=... .venv/bin/python bench/procore_pacing.py --url http://127.0.0.1:8000
        (reuse a running sandbox; DATABASE_URL must be the database that server uses)
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure_environment(site_url: str, database_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="syncapp.settings",
        SANDBOX_ENABLED="true",
        SITE_URL=site_url,
        DATABASE_URL=database_url,
        DEBUG="false",
        SECURE_COOKIES="false",
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())


def start_server(port: int) -> subprocess.Popen:
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], check=True, cwd=ROOT)
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the sandbox server did not start")


def build_world():
    """A company, a project and a service-account app installed in it: (company id, TokenSource)."""
    from django.conf import settings

    from syncapp.sandbox.procore.models import Company, OAuthClient, Project, User

    company = Company.objects.create(name="Bench Builders")
    user = User.objects.create(login=f"bench-{secrets.token_hex(4)}@example.com", name="Bench", is_service_account=True)
    user.companies.add(company)
    secret = secrets.token_urlsafe(16)
    app = OAuthClient.objects.create(
        client_id=f"bench-{secrets.token_hex(6)}", client_secret=secret, service_account=user
    )
    app.installed_in.add(company)
    Project.objects.create(company=company, name="Bench Tower", project_number="B-1")
    return company.id, ServiceAccountTokens(f"{settings.PROCORE_LOGIN_URL}/oauth/token", app.client_id, secret)


class ServiceAccountTokens:
    """client_credentials: a 401 is answered by asking for a new token."""

    def __init__(self, url: str, client_id: str, secret: str):
        self.url, self.client_id, self.secret, self.token = url, client_id, secret, ""

    def _fetch(self) -> str:
        import httpx

        data = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.secret}
        response = httpx.post(self.url, data=data, timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]

    def access_token(self) -> str:
        self.token = self.token or self._fetch()
        return self.token

    def refresh_after_unauthorized(self, failed_token: str) -> str:
        self.token = self._fetch()
        return self.token


def run(args: argparse.Namespace) -> dict:
    import django

    django.setup()
    from syncapp.connectors.pacing import WindowPacer
    from syncapp.connectors.procore import ProcoreClient
    from syncapp.connectors.types import CallCounter
    from syncapp.sandbox.models import Behaviour

    Behaviour.reset("procore")
    Behaviour.set("procore", spike_limit=args.spike_limit, spike_window_seconds=args.window, hourly_limit=1_000_000)
    company_id, tokens = build_world()
    counter = CallCounter()
    pacer = (
        NoPacer()
        if args.no_pacing
        else WindowPacer(low_water_fraction=args.low_water_fraction, min_low_water=args.min_low_water)
    )
    client = ProcoreClient(tokens=tokens, company_id=company_id, counter=counter, pacer=pacer)
    client.projects()  # warm up: token, connection; its answer tells the pacer the budget
    calls_before, throttled_before = counter.calls, counter.throttled
    started = time.monotonic()
    while time.monotonic() - started < args.seconds:
        client.projects()
    elapsed = time.monotonic() - started
    client.close()
    calls = counter.calls - calls_before
    answered = calls - (counter.throttled - throttled_before)  # calls that were not refused
    ceiling = args.spike_limit / args.window
    return {
        "spike_limit": args.spike_limit,
        "window_s": args.window,
        "pacing": not args.no_pacing,
        "seconds": round(elapsed, 1),
        "http_calls": calls,
        "successful_calls": answered,
        "successful_per_s": round(answered / elapsed, 3),
        "ceiling_per_s": round(ceiling, 3),
        "share_of_ceiling": f"{answered / elapsed / ceiling:.1%}",
        "429s": counter.throttled - throttled_before,
        "waited_s": round(counter.waited_seconds, 1),
    }


class NoPacer:
    """Stands in for WindowPacer with --no-pacing: never waits before a call (429s still wait)."""

    blocked_until = 0.0

    def observe(self, **_):
        pass

    def block_for(self, seconds: float) -> None:
        self.blocked_until = time.monotonic() + seconds

    def wait(self) -> float:
        delay = max(0.0, self.blocked_until - time.monotonic())
        time.sleep(delay)
        return delay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spike-limit", type=int, default=25)
    parser.add_argument("--window", type=int, default=10, help="spike window, seconds")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to keep calling")
    parser.add_argument("--no-pacing", action="store_true", help="call as fast as possible (429s expected)")
    parser.add_argument("--low-water-fraction", type=float, default=0.25, help="WindowPacer setting to try")
    parser.add_argument("--min-low-water", type=int, default=3, help="WindowPacer setting to try")
    parser.add_argument("--url", help="reuse a running sandbox at this base URL (with its DATABASE_URL)")
    args = parser.parse_args()
    from report import Section, record

    mode = "no pacing" if args.no_pacing else "WindowPacer"
    section = Section("pacing", f"Procore pacing: share of the spike ceiling ({mode})")
    server = None
    workdir = tempfile.TemporaryDirectory(prefix="procore-bench-")
    try:
        if args.url:
            if "DATABASE_URL" not in os.environ:
                raise SystemExit("--url needs DATABASE_URL set to the database that sandbox server uses")
            configure_environment(args.url.rstrip("/"), os.environ["DATABASE_URL"])
        else:
            port = free_port()
            configure_environment(f"http://127.0.0.1:{port}", f"sqlite:///{workdir.name}/bench.sqlite3")
            server = start_server(port)
        result = run(args)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        workdir.cleanup()
    record(with_figures(section, result))


def with_figures(section, result: dict):
    """The figures the issue asks for: the share of the spike ceiling used, with 0 429s."""
    from report import Table, figure

    section.add(
        figure(
            "429 answers",
            result["429s"],
            at_most=0,
            source="issue 9",
            note=f"{result['http_calls']:,} calls in {result['seconds']} s",
        ),
        figure(
            f"share of the spike ceiling ({result['spike_limit']} per {result['window_s']} s)",
            round(float(result["share_of_ceiling"].rstrip("%")), 1),
            unit="%",
            at_least=90,
            note=f"{result['successful_per_s']} successful calls/s against {result['ceiling_per_s']}/s; "
            f"{result['waited_s']} s spent waiting on the pacer. The bar: a paced client loses at most a tenth of "
            f"what the limit allows. A sliding window admits up to {result['spike_limit']} calls more than the "
            f"ceiling rate over any span, so {result['seconds']} s may reach "
            f"{100 * (1 + result['window_s'] / result['seconds']):.0f}% without a 429.",
        ),
    )
    section.tables.append(Table("raw", ["measure", "value"], [[k, v] for k, v in result.items()]))
    section.notes.append(
        "One ProcoreClient calling GET /rest/v1.0/projects in a loop against the sandbox served by a separate "
        "`manage.py runserver`; the sync's own paced run is in the sync section."
    )
    return section


if __name__ == "__main__":
    main()
