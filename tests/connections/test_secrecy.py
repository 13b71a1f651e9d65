"""Tokens stay secret: encrypted at rest, never in a log line, a page, an audit entry or an error,
and the encryption key can be rotated."""

import datetime as dt
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db_connection
from django.utils import timezone

from syncapp.connections import services, tokens
from syncapp.connections.crypto import TokenDecryptionError, decrypt
from syncapp.connections.models import Connection
from syncapp.connectors.types import NeedsReconnect
from syncapp.core.models import AuditEntry
from syncapp.sandbox.procore import models as procore
from syncapp.sandbox.xero import models as xero
from tests.connections.conftest import connection_of, full_flow

pytestmark = pytest.mark.django_db(transaction=True)


def issued_secrets() -> set[str]:
    values = set()
    for model in (xero.Token, procore.Token):
        for access, refresh in model.objects.values_list("access_token", "refresh_token"):
            values |= {access, refresh} - {None, ""}
    return values


def test_tokens_are_not_readable_in_the_database(admin_client, xero_app, procore_app):
    full_flow(admin_client, "xero")
    full_flow(admin_client, "procore")

    with db_connection.cursor() as cursor:
        cursor.execute("SELECT * FROM connections_connection")
        dump = repr(cursor.fetchall())

    secrets = issued_secrets()
    assert len(secrets) == 4
    for secret in secrets:
        assert secret not in dump
    assert decrypt(connection_of("xero").access_token_encrypted) in secrets


def test_no_token_appears_in_logs_pages_audit_or_errors(admin_client, xero_app, procore_app, caplog):
    caplog.set_level(logging.DEBUG)
    full_flow(admin_client, "xero")
    full_flow(admin_client, "procore")
    xero_conn, procore_conn = connection_of("xero"), connection_of("procore")
    Connection.objects.update(expires_at=timezone.now())
    tokens.ConnectionTokens(xero_conn).access_token()  # a refresh
    pages = [admin_client.post(f"/connections/{c.pk}/test/", follow=True).content for c in (xero_conn, procore_conn)]
    pages.append(admin_client.get("/connections/").content)
    pages.append(admin_client.get("/connections/xero/callback/?code=nope&state=nope").content)
    procore.Token.objects.update(revoked=True, refresh_used=True)
    Connection.objects.filter(pk=procore_conn.pk).update(expires_at=timezone.now())
    with pytest.raises(NeedsReconnect) as refused:
        tokens.ConnectionTokens(procore_conn).access_token()
    pages.append(admin_client.get("/connections/").content)
    secrets = issued_secrets()  # collected before the disconnect clears nothing remote-side
    admin_client.post(f"/connections/{xero_conn.pk}/disconnect/", follow=True)

    texts = [caplog.text, refused.value.message, repr(tokens.ConnectionTokens(xero_conn)), repr(xero_conn)]
    texts += [page.decode() for page in pages]
    texts += [f"{a.summary} {a.details}" for a in AuditEntry.objects.all()]
    texts += [f"{c.last_error} {c.status_reason}" for c in Connection.objects.all()]
    assert len(secrets) >= 5
    assert caplog.records, "logging was not captured"
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_rotating_the_key_re_encrypts_every_token(admin_client, xero_app, settings):
    full_flow(admin_client, "xero")
    before = connection_of("xero")
    plain = decrypt(before.access_token_encrypted), decrypt(before.refresh_token_encrypted)
    old_key = settings.TOKEN_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, old_key]

    call_command("rotate_token_key")

    settings.TOKEN_ENCRYPTION_KEYS = [new_key]  # the old key can now be dropped
    after = connection_of("xero")
    assert after.access_token_encrypted != before.access_token_encrypted
    assert (decrypt(after.access_token_encrypted), decrypt(after.refresh_token_encrypted)) == plain
    settings.TOKEN_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(TokenDecryptionError):
        decrypt(after.access_token_encrypted)


def test_a_refresh_stores_new_tokens_under_the_newest_key(admin_client, procore_app, settings):
    full_flow(admin_client, "procore")
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, settings.TOKEN_ENCRYPTION_KEYS[0]]
    Connection.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    tokens.ConnectionTokens(connection_of("procore")).access_token()

    settings.TOKEN_ENCRYPTION_KEYS = [new_key]
    assert decrypt(connection_of("procore").refresh_token_encrypted)


def test_connection_problem_names_no_secret_and_says_what_to_do(admin_client, xero_app):
    full_flow(admin_client, "xero")
    problem = services.connection_problem(connection_of("xero").integration)

    assert problem == "Procore is not connected: an Admin must connect it on the Connections page."
