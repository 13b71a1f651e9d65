"""Log lines say which run and which payment they are about, as text or as JSON (LOG_FORMAT)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from syncapp.core.logcontext import ContextFilter, JsonFormatter, TextFormatter, current, log_context

ROOT = Path(__file__).resolve().parents[2]


def capture(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    logger = logging.getLogger(f"tests.logcontext.{id(out)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, out


def test_text_lines_show_the_run_and_payment_only_while_known():
    logger, out = capture(TextFormatter())
    logger.info("before")
    with log_context(run_id=12):
        logger.info("run only")
        with log_context(payment_id=345):
            logger.warning("both")
        logger.info("run again")
    logger.info("after")
    lines = [line.split(" ", 2)[2] for line in out.getvalue().splitlines()]  # drop the date and time
    name = logger.name
    assert lines == [
        f"INFO {name} before",
        f"INFO {name} run=12 run only",
        f"WARNING {name} run=12 payment=345 both",
        f"INFO {name} run=12 run again",
        f"INFO {name} after",
    ]


def test_json_lines_are_objects_with_the_ids_when_known():
    logger, out = capture(JsonFormatter())
    logger.info("before")
    with log_context(run_id=12, payment_id=345):
        logger.warning("Procore %s failed", "create")
    before, during = [json.loads(line) for line in out.getvalue().splitlines()]
    assert set(before) == {"time", "level", "logger", "message"}
    assert during["message"] == "Procore create failed"
    assert (during["level"], during["logger"]) == ("WARNING", logger.name)
    assert (during["run_id"], during["payment_id"]) == (12, 345)
    assert during["time"].endswith("+00:00")


def test_a_json_line_carries_the_traceback_and_never_a_request():
    logger, out = capture(JsonFormatter())
    try:
        raise ValueError("bad row")
    except ValueError:
        logger.exception("failed", extra={"request": "<WSGIRequest: GET '/callback?code=secret-code'>"})
    [line] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert "ValueError: bad row" in line["exc_info"]
    assert "request" not in line and "secret-code" not in out.getvalue()


def test_the_context_ends_with_its_block_even_on_an_error():
    with pytest.raises(RuntimeError), log_context(run_id=1, payment_id=2):
        assert current() == {"run_id": 1, "payment_id": 2}
        raise RuntimeError
    assert current() == {}


def _log_a_line(log_format: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "syncapp.settings_test"}
    env.pop("LOG_FORMAT", None)
    if log_format is not None:
        env["LOG_FORMAT"] = log_format
    code = (
        "import django, logging; django.setup()\n"
        "from syncapp.core.logcontext import log_context\n"
        "with log_context(run_id=7, payment_id=8): logging.getLogger('syncapp.sync').warning('hello')\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_log_format_json_makes_the_server_log_json_lines():
    done = _log_a_line("json")
    assert done.returncode == 0, done.stderr
    [line] = [json.loads(line) for line in done.stderr.splitlines()]
    assert (line["logger"], line["message"], line["run_id"], line["payment_id"]) == ("syncapp.sync", "hello", 7, 8)


def test_the_default_log_format_is_readable_text():
    done = _log_a_line(None)
    assert done.returncode == 0, done.stderr
    assert done.stderr.rstrip().endswith("WARNING syncapp.sync run=7 payment=8 hello")


def test_an_unknown_log_format_stops_the_start_with_one_line():
    done = _log_a_line("yaml")
    assert done.returncode != 0
    assert "LOG_FORMAT is not valid: expected text or json." in done.stderr
