"""`manage.py worker_health`: the worker container's health check, from the heartbeat row."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from syncapp.core import tasks
from syncapp.core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def check() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("worker_health", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_it_exits_0_after_a_beat():
    tasks.beat()
    code, out, _ = check()
    assert code == 0
    assert out.startswith("worker alive: last beat 0 s ago")


def test_it_exits_1_when_the_last_beat_is_too_old(settings):
    settings.WORKER_DEAD_SECONDS = 120
    tasks.beat()
    WorkerHeartbeat.objects.update(beat_at=timezone.now() - dt.timedelta(seconds=150))
    code, _, err = check()
    assert code == 1
    assert "worker dead: last beat 150 s ago, over the 120 s limit" in err


def test_it_exits_1_before_any_beat():
    code, _, err = check()
    assert code == 1
    assert "worker never seen" in err


def test_beats_from_several_workers_keep_one_row():
    tasks.beat()
    tasks.beat()
    assert WorkerHeartbeat.objects.count() == 1
