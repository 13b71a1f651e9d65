"""Procore calls at the size of a large general contractor (issue 9, section 1): do reads follow the
change, not the company?

A fresh PostgreSQL database, `sandbox_seed --projects P --commitments C --invoices I --payments N`
(a subprocess), the sandbox served by `manage.py runserver --noreload` on a free port with its
rate limits lifted, an integration connected headlessly; then five runs in this process, each
counted per Procore endpoint (every HTTP request the product sends is seen here, in the process
that sends it, so the sandbox's answers stay as they are):

  a.  the first full run (a backfill of the N seeded payments);
  c1. a run with nothing new;
  b1. after 10 new payments on 3 projects paying invoices Procore already had (only Xero changed);
  b2. after 10 new payments on 3 projects paying NEW subcontractor invoices (Procore changed too);
  c2. a run with nothing new again.

New payments come from `syncapp.sandbox.seeding.changes.add_payments`. Totals are the run's own
counters (SyncRun.api_calls_procore / api_calls_xero); the per-endpoint table is what this process
saw. Targets (issue 9): a run with nothing new makes at most 5 Procore calls; an incremental run
makes at most 2 reads per touched project plus a constant, besides its 10 creates — the constant
taken as the 5 calls a run with nothing new may make. Everything goes to bench/RESULTS.md (bench/report.py).

    .venv/bin/python bench/index_scale.py                          # 500 / 5,000 / 20,000, 1,000 payments
    .venv/bin/python bench/index_scale.py --projects 50 --commitments 500 --invoices 2000 --payments 300
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from calls import Call, EndpointCounter, largest  # noqa: E402
from procore_pacing import configure_environment, free_port  # noqa: E402
from sync_end_to_end import connected_integration, fresh_database, manage, start_server  # noqa: E402

NEW_PAYMENTS = 10
TOUCHED_PROJECTS = 3
QUIET_RUN_MAX_CALLS = 5  # issue 9, section 1 (c)
READS_PER_TOUCHED_PROJECT = 2  # issue 9, section 1 (b)


@dataclass
class Measured:
    """One run: its own counters and the calls this process saw it make."""

    label: str
    run: object
    seconds: float
    calls: list[Call]
    touched: list[int] = field(default_factory=list)  # projects of the payments added before it

    @property
    def creates(self) -> int:
        return sum(
            1 for c in self.calls if c.method == "POST" and c.endpoint.startswith("/rest/v1.0/contract_payments")
        )

    @property
    def writes(self) -> int:
        return sum(1 for c in self.calls if c.method != "GET")

    @property
    def reads(self) -> int:
        return len(self.calls) - self.writes

    @property
    def sent(self) -> int:
        return self.run.counts.get("sent", 0)

    def project_reads(self) -> tuple[int, int]:
        """Reads naming a project: (on the touched projects, on any other)."""
        named = [c for c in self.calls if c.method == "GET" and c.project_id is not None]
        on_touched = sum(1 for c in named if c.project_id in self.touched)
        return on_touched, len(named) - on_touched


def run_once(label: str, integration, counter: EndpointCounter, touched: list[int] | None = None) -> Measured:
    from syncapp.sync.runs import execute_run, start_run

    run, _ = start_run(integration=integration, trigger="command")
    mark, started = counter.mark(), time.perf_counter()
    run = execute_run(run.pk)
    measured = Measured(label, run, time.perf_counter() - started, counter.since(mark), touched or [])
    print(
        f"{label}: {run.state} in {measured.seconds:.1f} s, sent {measured.sent}, Procore {run.api_calls_procore} "
        f"({measured.reads} reads, {measured.writes} writes seen), Xero {run.api_calls_xero}"
    )
    return measured


def seed_company(args) -> float:
    started = time.perf_counter()
    manage(
        "sandbox_seed",
        *("--projects", str(args.projects), "--commitments", str(args.commitments)),
        *("--invoices", str(args.invoices), "--payments", str(args.payments)),
        *("--seed", str(args.seed), "--reset"),
    )
    return time.perf_counter() - started


def add_payments(*, new_invoices: bool, seed: int) -> list[int]:
    """10 new Xero payments on 3 projects; the projects touched."""
    from syncapp.sandbox.seeding.changes import add_payments as add

    added = add(count=NEW_PAYMENTS, projects=TOUCHED_PROJECTS, new_invoices=new_invoices, seed=seed)
    return list(added.project_ids)


def measure_runs(args) -> list[Measured]:
    from syncapp.sandbox.models import Behaviour

    Behaviour.reset()
    Behaviour.set("procore", hourly_limit=10_000_000, spike_limit=10_000_000)
    Behaviour.set("xero", minute_limit=100_000, day_limit=1_000_000)
    counter = EndpointCounter()
    counter.install()
    integration = connected_integration("bench-index")
    runs = [run_once("a. first full run", integration, counter)]
    runs.append(run_once("c1. nothing new", integration, counter))
    touched = add_payments(new_invoices=False, seed=args.seed)
    runs.append(run_once("b1. 10 new payments, invoices Procore had", integration, counter, touched))
    touched = add_payments(new_invoices=True, seed=args.seed + 1)
    runs.append(run_once("b2. 10 new payments, new invoices", integration, counter, touched))
    runs.append(run_once("c2. nothing new", integration, counter))
    return runs


# --- Figures -------------------------------------------------------------------------------------


def first_run_figures(args, first: Measured) -> list:
    from report import check, figure

    run = first.run
    reads_bar = 3 * args.projects + 10
    payments_to_amortise = first.reads / 0.1 if first.reads else 0
    return [
        check(
            "a. first full run ends succeeded, every seeded payment sent",
            run.state == "succeeded" and first.sent == args.payments,
            value=f"{run.state}, sent {first.sent:,}",
            target=f"succeeded, sent {args.payments:,}",
            source="bench bar",
            note=run.error or f"counts {run.counts}",
        ),
        figure(
            "a. first full run: Procore calls",
            run.api_calls_procore,
            note=f"{first.reads:,} reads + {first.writes:,} writes ({first.creates:,} payment creates) seen; "
            f"{first.seconds:.0f} s; Xero calls {run.api_calls_xero:,}",
        ),
        figure(
            "a. first full run: Procore reads",
            first.reads,
            at_most=reads_bar,
            note=f"The bar: no more than today's full read, about 3 calls a project (issue 9 §1), plus 10: "
            f"{first.reads / args.projects:.2f} reads a project; most read: {_largest_reads(first)}",
        ),
        figure(
            "a. first full run: Procore calls per payment sent",
            round(run.api_calls_procore / max(first.sent, 1), 3),
            at_most=1.1,
            source="issue 9",
            note=f"the backfill bound at this company size with {args.payments:,} payments: the reads alone are "
            f"{first.reads / max(first.sent, 1):.2f} a payment; they fit within 0.1 a payment from about "
            f"{payments_to_amortise:,.0f} payments on",
        ),
    ]


def quiet_run_figures(quiet: list[Measured]) -> list:
    from report import figure

    return [
        figure(
            f"{run.label}: Procore calls",
            run.run.api_calls_procore,
            at_most=QUIET_RUN_MAX_CALLS,
            source="issue 9",
            note=f"run {run.run.state}, sent {run.sent}; {', '.join(_endpoint_summary(run)) or 'no calls'}",
        )
        for run in quiet
    ]


def incremental_figures(changed: list[Measured]) -> list:
    from report import check, figure

    figures = []
    for run in changed:
        bar = READS_PER_TOUCHED_PROJECT * len(run.touched) + QUIET_RUN_MAX_CALLS
        on_touched, elsewhere = run.project_reads()
        figures += [
            check(
                f"{run.label}: sent, with one create each",
                run.sent == NEW_PAYMENTS and run.creates == NEW_PAYMENTS,
                value=f"sent {run.sent}, {run.creates} creates",
                target=f"sent {NEW_PAYMENTS}, {NEW_PAYMENTS} creates",
                source="issue 9",
                note=run.run.error or f"run {run.run.state}, counts {run.run.counts}",
            ),
            figure(
                f"{run.label}: Procore reads",
                run.reads,
                at_most=bar,
                source="issue 9",
                note=f"{READS_PER_TOUCHED_PROJECT} a touched project x {len(run.touched)} + a constant, taken as "
                f"the {QUIET_RUN_MAX_CALLS} calls a run with nothing new may make; "
                f"{run.reads - on_touched - elsewhere} reads name no project; Procore calls in all "
                f"{run.run.api_calls_procore}, Xero {run.run.api_calls_xero}; most read: {_largest_reads(run)}",
            ),
            figure(
                f"{run.label}: reads on projects not touched",
                elsewhere,
                at_most=0,
                note=f"reads that name a project other than the {len(run.touched)} the new payments are on "
                f"({on_touched} name a touched one): {_reads_elsewhere(run)}. The bar: reads follow the change.",
            ),
        ]
    return figures


def _largest_reads(run: Measured) -> str:
    return largest(run.calls, method="GET")


def _reads_elsewhere(run: Measured) -> str:
    return largest([c for c in run.calls if c.project_id is not None and c.project_id not in run.touched], method="GET")


def _endpoint_summary(run: Measured) -> list[str]:
    return [f"{method} {endpoint} x{count}" for (method, endpoint), count in _by_endpoint(run).most_common()]


def _by_endpoint(run: Measured) -> Counter:
    return Counter((call.method, call.endpoint) for call in run.calls)


def endpoint_table(runs: list[Measured]):
    from report import Table

    counts = [_by_endpoint(run) for run in runs]
    keys = sorted(set().union(*counts))
    rows = [
        [f"{method} `{endpoint}`"] + [count.get((method, endpoint), 0) for count in counts] for method, endpoint in keys
    ]
    rows.append(["**all Procore API calls seen**"] + [len(run.calls) for run in runs])
    rows.append(["SyncRun.api_calls_procore"] + [run.run.api_calls_procore for run in runs])
    rows.append(["SyncRun.api_calls_xero"] + [run.run.api_calls_xero for run in runs])
    rows.append(["run seconds"] + [f"{run.seconds:.1f}" for run in runs])
    return Table("Procore calls per endpoint, per run", ["endpoint"] + [run.label.split(".")[0] for run in runs], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--commitments", type=int, default=5_000)
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--payments", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="bench_index")
    args = parser.parse_args()

    from report import Section, record

    size = f"{args.projects:,} projects / {args.commitments:,} commitments / {args.invoices:,} invoices"
    section = Section("index_scale", f"Procore reads at company scale: {size}")
    pg_url = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    port = free_port()
    configure_environment(f"http://127.0.0.1:{port}", fresh_database(pg_url, args.database))
    for name in ("XERO", "PROCORE"):
        os.environ.setdefault(f"{name}_CLIENT_ID", f"bench-{name.lower()}")
        os.environ.setdefault(f"{name}_CLIENT_SECRET", secrets.token_urlsafe(16))
    manage("migrate", "--noinput", "-v", "0")
    seed_seconds = seed_company(args)
    server = start_server(port)
    try:
        import django

        django.setup()
        runs = measure_runs(args)
    finally:
        server.terminate()
        server.wait(timeout=10)

    first, quiet, changed = runs[0], [runs[1], runs[4]], [runs[2], runs[3]]
    section.add(*first_run_figures(args, first))
    section.add(*quiet_run_figures(quiet))
    section.add(*incremental_figures(changed))
    section.tables.append(endpoint_table(runs))
    section.notes += [
        f"Seeded with `manage.py sandbox_seed --projects {args.projects} --commitments {args.commitments} "
        f"--invoices {args.invoices} --payments {args.payments} --seed {args.seed}` in {seed_seconds:.0f} s; "
        f"new payments by `syncapp.sandbox.seeding.changes.add_payments(count={NEW_PAYMENTS}, "
        f"projects={TOUCHED_PROJECTS}, new_invoices=...)`.",
        "Rate limits lifted in the sandbox (calls are counted, not paced); the sandbox runs in its own process "
        f"(`runserver --noreload`), the runs in this one; SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER="
        f"{os.environ.get('SANDBOX_PROCORE_PROJECTS_VENDOR_FILTER', '(default)')}.",
        "Reads = GET requests; writes = every other method (payment creates are POST contract_payments).",
    ]
    record(section)


if __name__ == "__main__":
    main()
