"""`make run`'s demo_connect: once the web server answers, the sandbox Xero and Procore are
connected (client credentials) where they are not yet, so the demo opens ready to click Get All
Payments; never against real services."""

import io

import pytest
from django.core.management import CommandError, call_command

from syncapp.connections.models import Connection, ConnectionStatus, Grant
from syncapp.connections.services import connection_problem, resolve_integration

pytestmark = pytest.mark.django_db(transaction=True)


def demo_connect(url: str, **options) -> str:
    out = io.StringIO()
    call_command("demo_connect", wait_for=url, stdout=out, stderr=out, **options)
    return out.getvalue()


def test_both_are_connected_once_and_the_button_may_be_clicked(seeded_world, sandbox):
    said = demo_connect(sandbox)
    integration = resolve_integration()
    assert connection_problem(integration) is None  # what Home asks before enabling the button
    rows = Connection.objects.filter(integration=integration)
    assert {(c.provider, c.status, c.grant) for c in rows} == {
        ("xero", ConnectionStatus.CONNECTED, Grant.CLIENT_CREDENTIALS),
        ("procore", ConnectionStatus.CONNECTED, Grant.CLIENT_CREDENTIALS),
    }
    assert "Connected the sandbox Xero" in said and "Connected the sandbox Procore" in said

    def tokens() -> list[str]:
        return sorted(rows.values_list("access_token_encrypted", flat=True))

    before = tokens()
    assert demo_connect(sandbox) == ""  # a second start leaves the connections as they are
    assert tokens() == before


def test_a_sandbox_that_refuses_says_where_to_connect_instead(sandbox):
    said = demo_connect(sandbox)  # no OAuth apps registered: both grants are refused
    assert said.count("connect it on the Connections page") == 2
    assert not Connection.objects.filter(status=ConnectionStatus.CONNECTED).exists()


def test_it_never_connects_real_services(settings):
    settings.SANDBOX_ENABLED = False
    with pytest.raises(CommandError, match="sandbox only"):
        demo_connect("http://127.0.0.1:9")


def test_a_server_that_never_answers_is_reported(db):
    with pytest.raises(CommandError, match="No answer from http://127.0.0.1:9"):
        demo_connect("http://127.0.0.1:9", timeout=0.5)  # the discard port: nothing listens
