"""Figures of the benchmarks, each with its target and PASS/MISS, printed and written to bench/RESULTS.md.

Every bench script builds a `Section` of `Figure`s (and tables) and calls `record(section)`: that
prints it, keeps it as bench/results/<key>.json (ignored by git) and writes bench/RESULTS.md again
from every kept section, with the machine, the date and each section's own command. RESULTS.md is
therefore only ever written by the scripts.

`make bench` starts with `python bench/report.py start "make bench"`: it forgets the sections of
an earlier run (so RESULTS.md never mixes two runs) and notes the command, the start time and the
load average. A script run alone replaces only its own section.

A target comes from the issue (source "issue 9") or, where the issue names a figure without a
number, is a bar this bench sets for itself (source "bench bar"); RESULTS.md says which.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import tracemalloc
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
KEPT = BENCH / "results"
RESULTS = BENCH / "RESULTS.md"
RUN_FILE = KEPT / "run.json"
# The order of the sections in RESULTS.md (a section not listed comes last).
ORDER = ["sync", "pacing", "index_scale", "pages", "seed"]
PG_URL = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432").rstrip("/")


@dataclass
class Figure:
    name: str
    value: float | int | str
    unit: str = ""
    target: str = ""  # as a person reads it: "≤ 1.1"
    source: str = ""  # "issue 9" | "bench bar"
    verdict: str = ""  # "PASS" | "MISS" | "" (nothing to judge)
    note: str = ""  # what the number means or what limits it


def figure(
    name: str,
    value: float | int,
    *,
    unit: str = "",
    at_most: float | None = None,
    at_least: float | None = None,
    source: str = "bench bar",
    note: str = "",
) -> Figure:
    """A measured number judged against its bound (`at_most` or `at_least`)."""
    if at_most is not None:
        target, passed = f"≤ {_number(at_most)} {unit}".strip(), value <= at_most
    elif at_least is not None:
        target, passed = f"≥ {_number(at_least)} {unit}".strip(), value >= at_least
    else:
        target, passed, source = "", None, ""
    verdict = "" if passed is None else ("PASS" if passed else "MISS")
    return Figure(name, value, unit, target, source, verdict, note)


def check(name: str, passed: bool, *, value: str, target: str, source: str = "issue 9", note: str = "") -> Figure:
    """A figure whose target is a statement rather than a bound ("the same at 10,000 and 100,000")."""
    return Figure(name, value, "", target, source, "PASS" if passed else "MISS", note)


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]


@dataclass
class Section:
    key: str
    title: str
    command: str = field(default_factory=lambda: shlex.join(["python", *sys.argv]))
    started: str = field(default_factory=lambda: _now())
    load_at_start: str = field(default_factory=lambda: _load())
    seconds: float = 0.0
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _clock: float = field(default_factory=time.monotonic, repr=False)

    def add(self, *figures: Figure) -> None:
        self.figures.extend(figures)


def timed(work) -> tuple[float, int]:
    """How long work() took, in seconds, and what it returned."""
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def peak(work) -> float:
    """The peak of Python allocations while work() ran, in MB (tracemalloc: run it apart from timing)."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def record(section: Section) -> None:
    """Print the section, keep it, and write RESULTS.md again from every kept section."""
    section.seconds = round(time.monotonic() - section._clock, 1)
    print(_section_markdown(section))
    KEPT.mkdir(exist_ok=True)
    data = asdict(section)
    data.pop("_clock")
    (KEPT / f"{section.key}.json").write_text(json.dumps(data, indent=1, default=str))
    write_results()


def start(command: str) -> None:
    """Begin a full run: forget earlier sections, note the command, the time and the load."""
    KEPT.mkdir(exist_ok=True)
    for old in KEPT.glob("*.json"):
        old.unlink()
    RUN_FILE.write_text(json.dumps({"command": command, "started": _now(), "load_at_start": _load()}))
    write_results()


# --- RESULTS.md ----------------------------------------------------------------------------------


def write_results() -> None:
    sections = _kept_sections()
    lines = [
        "# Benchmark results",
        "",
        "Written by the bench scripts (`bench/report.py`), never by hand. Re-run with `make bench` "
        "(PostgreSQL on 127.0.0.1:5432; the scripts create and drop their own `bench_*` databases).",
        "",
        *_header_lines(),
        "",
        "## Every figure with a target",
        "",
        "Target source: *issue 9* is the issue's own number; *bench bar* is a bar this bench sets "
        "where the issue names the figure without a number.",
        "",
        "| section | figure | value | target | source | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for section in sections:
        for fig in section["figures"]:
            if fig["verdict"]:
                lines.append(
                    f"| [{section['key']}](#{_anchor(section['title'])}) | {fig['name']} | {_shown(fig)} "
                    f"| {fig['target']} | {fig['source']} | **{fig['verdict']}** |"
                )
    for section in sections:
        lines += ["", _section_markdown(_as_section(section))]
    RESULTS.write_text("\n".join(lines).rstrip() + "\n")


def _kept_sections() -> list[dict]:
    found = [json.loads(path.read_text()) for path in KEPT.glob("*.json") if path != RUN_FILE] if KEPT.exists() else []
    rank = {key: n for n, key in enumerate(ORDER)}
    return sorted(found, key=lambda s: (rank.get(s["key"], len(ORDER)), s["key"]))


def _as_section(data: dict) -> Section:
    data = dict(data)
    figures = [Figure(**f) for f in data.pop("figures")]
    tables = [Table(**t) for t in data.pop("tables")]
    return Section(**data, figures=figures, tables=tables)


def _header_lines() -> list[str]:
    run = json.loads(RUN_FILE.read_text()) if RUN_FILE.exists() else {}
    lines = []
    if run:
        started = f"started {run['started']} (load average then: {run['load_at_start']})"
        lines.append(f"- Command: `{run['command']}`, {started}")
    else:
        lines.append("- Command: each section names the script run alone that produced it")
    lines += [
        f"- Written: {_now()}",
        f"- Machine: {_machine()}",
        f"- Software: {_software()}",
        f"- Code: {_code_version()}",
        "- Load: the machine's 2 cores may be shared with other work while a bench runs; each section "
        "gives the 1/5/15-minute load average at its start, so a number taken under load can be told apart.",
    ]
    return lines


def _section_markdown(section: Section) -> str:
    lines = [
        f"## {section.title}",
        "",
        f"`{section.command}` — started {section.started}, {section.seconds:.0f} s, "
        f"load average at start {section.load_at_start}",
        "",
        "| figure | value | target | source | result | note |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for fig in section.figures:
        fig_dict = asdict(fig)
        verdict = f"**{fig.verdict}**" if fig.verdict else ""
        lines.append(f"| {fig.name} | {_shown(fig_dict)} | {fig.target} | {fig.source} | {verdict} | {fig.note} |")
    for table in section.tables:
        lines += ["", f"**{table.title}**", "", "| " + " | ".join(table.columns) + " |"]
        lines.append("|" + " --- |" * len(table.columns))
        lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in table.rows]
    if section.notes:
        lines += [""] + [f"- {note}" for note in section.notes]
    return "\n".join(lines)


def _anchor(title: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    kept = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def _shown(fig: dict) -> str:
    value = fig["value"]
    text = _number(value) if isinstance(value, (int, float)) else str(value)
    return f"{text} {fig['unit']}".strip()


def _number(value: float | int) -> str:
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 100:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}".rstrip("0").rstrip(".")


# --- Machine facts -------------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _machine() -> str:
    memory_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    cpu = f"{os.cpu_count()} cores" + (f" ({model})" if model else "")
    return f"{cpu}, {memory_kb / 1024 / 1024:.1f} GiB RAM, {platform.system()} {platform.release()}"


def _software() -> str:
    import django

    return f"Python {platform.python_version()}, Django {django.get_version()}, PostgreSQL {_postgres_version()}"


def _postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(f"{PG_URL}/postgres", connect_timeout=3) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as error:  # a report without the version beats no report
        return f"unknown ({type(error).__name__})"


def _code_version() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "syncapp")
    return f"commit {commit}" + (" with uncommitted changes in syncapp/" if dirty else "")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "start":
        start(" ".join(sys.argv[2:]) or "make bench")
    else:
        write_results()
