"""`manage.py connect ... --client-credentials`: headless connections for servers without a browser."""

import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from syncapp.connections.models import Connection, ConnectionStatus, Grant, Integration
from syncapp.sandbox.procore import models as procore
from tests.processes import database_url

pytestmark = pytest.mark.django_db(transaction=True)


def connect(*args: str) -> str:
    out = StringIO()
    call_command("connect", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def custom_connection(xero_app, xero_org):
    xero_app.custom_connection_organisation = xero_org
    xero_app.save()
    return xero_app


@pytest.fixture
def service_account(procore_app, procore_company):
    account = procore.User.objects.create(login="svc@harbour.example", name="Sync Bot", is_service_account=True)
    account.companies.add(procore_company)
    procore_app.service_account = account
    procore_app.save()
    return account


def test_xero_connects_by_custom_connection_into_a_new_default_integration(custom_connection, xero_org):
    out = connect("xero", "--client-credentials")

    assert "Demo Builders Pty Ltd" in out and "'default'" in out
    connection = Connection.objects.get(provider="xero")
    assert connection.integration.name == "default"
    assert connection.grant == Grant.CLIENT_CREDENTIALS
    assert connection.tenant_id == str(xero_org.tenant_id)
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.refresh_token_encrypted == ""


def test_procore_connects_by_service_account_to_the_company_named(service_account, procore_app, procore_company):
    other = procore.Company.objects.create(name="Bridge Works")
    service_account.companies.add(other)
    procore_app.installed_in.add(other)
    with pytest.raises(CommandError, match="several Procore companies"):
        connect("procore", "--client-credentials")

    out = connect("procore", "--client-credentials", "--company-id", str(other.id), "--integration", "bridge")

    assert "Bridge Works" in out
    connection = Connection.objects.get(provider="procore", integration__name="bridge")
    assert connection.tenant_id == str(other.id)


def test_the_only_integration_is_used_when_none_is_named(service_account):
    Integration.objects.create(name="main")

    connect("procore", "--client-credentials")

    assert Connection.objects.get(provider="procore").integration.name == "main"


def test_several_integrations_need_a_name(service_account):
    Integration.objects.create(name="one")
    Integration.objects.create(name="two")

    with pytest.raises(CommandError, match="--integration"):
        connect("procore", "--client-credentials")


def test_an_app_without_a_service_account_fails_with_a_clear_message(procore_app):
    with pytest.raises(CommandError, match="Procore refused the client credentials"):
        connect("procore", "--client-credentials")
    assert not Connection.objects.exists()


def test_wrong_client_credentials_fail_without_showing_the_secret(custom_connection, settings):
    settings.XERO_CLIENT_SECRET = "wrong-secret-value"

    with pytest.raises(CommandError) as failure:
        connect("xero", "--client-credentials")

    assert "Xero refused the client credentials" in str(failure.value)
    assert "wrong-secret-value" not in str(failure.value)


def test_the_browser_flow_is_not_offered_on_the_command_line(db):
    with pytest.raises(CommandError, match="--client-credentials"):
        connect("xero")


def test_a_failed_connect_exits_non_zero(db, tmp_path, is_postgres):
    # A real process with a Procore URL nobody answers at: the exit code and message a script sees.
    # On PostgreSQL it shares the test database (migrated already, emptied after the test);
    # SQLite's test database lives in this process's memory, so it gets a file of its own.
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "syncapp.settings_test",
        "DATABASE_URL": database_url() if is_postgres else f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PROCORE_LOGIN_URL": "http://127.0.0.1:9",
        "TOKEN_ENCRYPTION_KEYS": settings.TOKEN_ENCRYPTION_KEYS[0],
    }
    manage = [sys.executable, "manage.py"]
    if not is_postgres:
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=settings.BASE_DIR)

    result = subprocess.run([*manage, "connect", "procore", "--client-credentials"], env=env,
                            capture_output=True, text=True, cwd=settings.BASE_DIR)

    assert result.returncode != 0
    assert "Could not reach the token server" in result.stderr
