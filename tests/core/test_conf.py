"""Each app's settings and their defaults live in its conf.py: read at use (override_settings
applies), stated once (settings.py sets a name only from its environment variable), and documented
with the same value in .env.example."""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import pytest
from django.test import override_settings

from syncapp.connectors.conf import ConnectorsConf
from syncapp.core.conf import CoreConf, Setting, defaults
from syncapp.reconcile.conf import ReconcileConf
from syncapp.sandbox.conf import SandboxConf
from syncapp.sync.conf import SyncConf
from syncapp.webhooks.conf import WebhooksConf

CONFS = [CoreConf, SyncConf, ReconcileConf, WebhooksConf, ConnectorsConf, SandboxConf]
EVERY = {name: default for conf in CONFS for name, default in defaults(conf).items()}
EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_a_setting_is_read_when_used_so_override_settings_applies():
    assert SyncConf.SYNC_HUNG_SECONDS == 600.0
    with override_settings(SYNC_HUNG_SECONDS=5):
        assert SyncConf.SYNC_HUNG_SECONDS == 5
    assert SyncConf.SYNC_HUNG_SECONDS == 600.0


def test_a_setting_left_unset_reads_its_default():
    class Conf:
        NOT_A_SETTING_ANYWHERE = Setting("default")

    assert Conf.NOT_A_SETTING_ANYWHERE == Conf().NOT_A_SETTING_ANYWHERE == "default"


def test_no_two_apps_claim_the_same_setting():
    names = [name for conf in CONFS for name in defaults(conf)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", sorted(EVERY))
def test_settings_py_states_no_default_of_its_own(name):
    """Unset in the environment, the name is not in settings.py at all: the conf default applies."""
    if name in os.environ:
        pytest.skip(f"{name} is set in this environment")
    assert not hasattr(importlib.import_module("syncapp.settings"), name)


def test_env_example_documents_each_default_it_lists():
    listed = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", EXAMPLE.read_text(), re.M))
    documented = {name: value for name, value in listed.items() if name in EVERY}
    assert documented  # the example lists some of them
    for name, value in documented.items():
        assert type(EVERY[name])(value) == EVERY[name], name


def test_a_sandbox_switch_reads_settings_then_the_environment_and_blank_is_its_default(monkeypatch):
    monkeypatch.setenv("SANDBOX_XERO_OTHER_DOCUMENT_EMBED", "invoice")
    assert SandboxConf.SANDBOX_XERO_OTHER_DOCUMENT_EMBED == "invoice"
    with override_settings(SANDBOX_XERO_OTHER_DOCUMENT_EMBED=" document "):
        assert SandboxConf.SANDBOX_XERO_OTHER_DOCUMENT_EMBED == "document"
    monkeypatch.setenv("SANDBOX_XERO_OTHER_DOCUMENT_EMBED", "  ")
    assert SandboxConf.SANDBOX_XERO_OTHER_DOCUMENT_EMBED == "document"
