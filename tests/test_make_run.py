"""`make run` (the demo) stops with one Ctrl-C: the web server and the worker end, without tracebacks.

A terminal's Ctrl-C is a SIGINT to the whole foreground process group; the test starts `make run` in
a group of its own and sends that. Seeding is skipped (`-o seed`): the test database is migrated.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import database_url

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_the_demo_web_server_and_worker_once_and_cleanly():
    port = _free_port()
    log = ROOT / "artifacts" / "make-run-ctrl-c.log"
    log.parent.mkdir(exist_ok=True)
    env = {**os.environ, "DATABASE_URL": database_url()}
    make_run = ["make", "-o", "seed", "run", f"PORT={port}", f"BIN={Path(sys.executable).parent}"]
    command = [sys.executable, "-c", _WITH_CTRL_C, *make_run]
    with log.open("w") as out:
        demo = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 60
            while "running." not in log.read_text() or not _listening(port):
                assert demo.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the demo did not start:\n" + log.read_text()
                time.sleep(0.2)
            os.killpg(demo.pid, signal.SIGINT)
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                still = "\n".join(_session_processes(demo.pid))
                pytest.fail(f"still running 30 s after Ctrl-C:\n{still}\n--- log:\n{log.read_text()}")
        finally:
            _kill_session(demo.pid)
    text = log.read_text()
    assert "has stopped." in text, text  # the worker finished stopping before make returned
    assert text.count("stopping.") == 1, text  # stopped once, not once per signal
    assert "Traceback" not in text and "RecursionError" not in text, text
    assert not _listening(port)


# Exec the command with SIGINT as a terminal's foreground job has it. A suite started in the
# background (`make test &`, some CI runners) inherits SIGINT ignored, exec keeps that, and a web
# server that ignores Ctrl-C is what this test would then find, whatever the Makefile does.
_WITH_CTRL_C = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])"
)


def _session_processes(session: int) -> list[str]:
    """`ps` lines (pid, state, kernel wait, command) of every process of the demo's session: make,
    its shell, the web server, and the worker, which runs in a process group of its own."""
    table = subprocess.run(
        ["ps", "-e", "-ww", "-o", "pid=,sid=,stat=,wchan:24=,args="], capture_output=True, text=True, check=True
    ).stdout
    return [line for line in table.splitlines() if line.split()[1] == str(session)]


def _kill_session(session: int) -> None:
    """A failed test leaves nothing running: the worker's own process group is outside make's."""
    for line in _session_processes(session):
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass  # ended meanwhile


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
