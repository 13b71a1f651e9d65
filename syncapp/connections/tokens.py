"""Live access tokens for one Connection, refreshed single-flight.

`ConnectionTokens(connection)` implements `syncapp.connectors.types.TokenSource`. A token that
expires within `REFRESH_MARGIN` (or that the API just refused with 401) is renewed — by refresh
grant, or for client-credentials connections by asking for a new token — by exactly one worker
at a time, and the new pair is stored before anyone uses it. Both providers rotate refresh tokens,
so two workers refreshing at once would leave one holding a dead token and break the connection.

How single-flight is guaranteed:

* PostgreSQL: the refresh runs inside a transaction holding `SELECT ... FOR UPDATE` on the
  connection row; the new tokens are written in that same transaction. Workers queued on the lock
  then see `token_version` moved and use the new token instead of refreshing again.
* SQLite (the demo): row locks do nothing, and holding a write transaction across the HTTP call
  would lock out the sandbox, which writes to the same file. So a worker first *claims* the
  refresh with a conditional `UPDATE ... SET refresh_claimed_until=<lease> WHERE token_version=v
  AND (no live lease)`, commits, refreshes, and stores the result with `UPDATE ... WHERE
  token_version=v`. A worker whose claim matched no row waits for `token_version` to move. This
  holds across threads and processes sharing the file.

Call these outside any `transaction.atomic()` block of your own: a rollback of the caller's
transaction would throw away a rotated refresh token that the provider has already retired.

Stored tokens that TOKEN_ENCRYPTION_KEYS cannot decrypt raise `UnreadableTokens`, whose message
names the provider and both ways out, and the connection records it as its last error. It is not
marked "needs reconnect": restoring the previous key mends it as well as reconnecting does.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from syncapp.connections import oauth
from syncapp.connections.crypto import TokenDecryptionError, decrypt, encrypt
from syncapp.connections.health import mark_needs_reconnect, record_error
from syncapp.connections.models import Connection, ConnectionStatus, Grant
from syncapp.connectors.types import ConnectorError, NeedsReconnect, TransientError

logger = logging.getLogger(__name__)

REFRESH_MARGIN = dt.timedelta(seconds=60)
WAIT_POLL_SECONDS = 0.05


class UnreadableTokens(ConnectorError):
    """The connection's stored tokens cannot be decrypted with the configured keys."""


def _noting_unreadable(method: Callable[..., str]) -> Callable[..., str]:
    """The connection keeps the decryption failure as its last error. Noted here, outside every
    transaction of the refresh, so that its rollback does not take the note with it."""

    @functools.wraps(method)
    def wrapper(self: ConnectionTokens, *args, **kwargs) -> str:
        try:
            return method(self, *args, **kwargs)
        except UnreadableTokens as exc:
            row = Connection.objects.filter(pk=self.connection_id).first()
            if row is not None:
                record_error(row, message=exc.message)
            raise

    return wrapper


class ConnectionTokens:
    """The TokenSource of one Connection. Cheap to build; holds no token in memory between calls."""

    def __init__(self, connection: Connection):
        self.connection_id = connection.pk
        self.provider = connection.provider

    def __repr__(self) -> str:  # never the token
        return f"<ConnectionTokens {self.provider} #{self.connection_id}>"

    @_noting_unreadable
    def access_token(self) -> str:
        row = self._load()
        _fail_fast(row)
        if _usable(row):
            return _read(row, row.access_token_encrypted)
        return self._renew(seen_version=row.token_version)

    @_noting_unreadable
    def refresh_after_unauthorized(self, failed_token: str) -> str:
        row = self._load()
        _fail_fast(row)
        if _read(row, row.access_token_encrypted) != failed_token:
            # Another worker renewed it since this one was handed out.
            return self.access_token()
        return self._renew(seen_version=row.token_version, forced=True)

    # --- internals ------------------------------------------------------------------------------

    def _load(self) -> Connection:
        try:
            return Connection.objects.select_related("integration").get(pk=self.connection_id)
        except Connection.DoesNotExist:
            raise NeedsReconnect(f"The {self.provider.title()} connection no longer exists.") from None

    def _renew(self, *, seen_version: int, forced: bool = False) -> str:
        if uses_row_locks():
            return self._renew_under_row_lock(seen_version=seen_version, forced=forced)
        return self._renew_with_lease(seen_version=seen_version, forced=forced)

    def _renew_under_row_lock(self, *, seen_version: int, forced: bool) -> str:
        refused: oauth.GrantRefused | None = None
        failed: TransientError | None = None
        with transaction.atomic():
            row = Connection.objects.select_for_update().select_related("integration").get(pk=self.connection_id)
            _fail_fast(row)
            if row.token_version != seen_version and (forced or _usable(row)):
                return _read(row, row.access_token_encrypted)  # renewed by the worker we queued behind
            try:
                tokens = _fetch_new_tokens(row)
            except oauth.GrantRefused as exc:
                refused = exc
            except TransientError as exc:
                failed = exc
            else:
                _store(row, tokens, expected_version=row.token_version)
                return tokens.access_token
        # Outside the transaction, so the "needs reconnect" mark is not rolled back with it.
        if refused is not None:
            raise _refused(row, refused)
        assert failed is not None
        record_error(row, message=failed.message)
        raise failed

    def _renew_with_lease(self, *, seen_version: int, forced: bool) -> str:
        deadline = time.monotonic() + settings.HTTP_TIMEOUT + 15
        while True:
            now = timezone.now()
            lease = now + dt.timedelta(seconds=settings.HTTP_TIMEOUT + 10)
            claimed = (
                Connection.objects.filter(pk=self.connection_id, token_version=seen_version)
                .filter(Q(refresh_claimed_until__isnull=True) | Q(refresh_claimed_until__lt=now))
                .update(refresh_claimed_until=lease)
            )
            if claimed:
                return self._refresh_claimed(seen_version=seen_version)
            row = self._load()
            _fail_fast(row)
            if row.token_version != seen_version and (forced or _usable(row)):
                return _read(row, row.access_token_encrypted)
            if row.token_version != seen_version:
                seen_version = row.token_version  # renewed, yet already stale: renew again
                continue
            if time.monotonic() > deadline:
                raise TransientError("Timed out waiting for another worker to refresh the token.")
            time.sleep(WAIT_POLL_SECONDS)

    def _refresh_claimed(self, *, seen_version: int) -> str:
        row = self._load()
        try:
            tokens = _fetch_new_tokens(row)
        except oauth.GrantRefused as exc:
            _release_claim(self.connection_id, seen_version)
            raise _refused(row, exc) from None
        except TransientError as exc:
            _release_claim(self.connection_id, seen_version)
            record_error(row, message=exc.message)
            raise
        if not _store(row, tokens, expected_version=seen_version):
            # Our lease ran out and another worker stored a pair meanwhile. Our token still works;
            # theirs is the one kept. Rare: only when a refresh outlives the HTTP timeout.
            logger.warning("Token refresh for connection %s finished after its lease; kept the other.", row.pk)
        return tokens.access_token


def uses_row_locks() -> bool:
    """PostgreSQL honours SELECT ... FOR UPDATE; SQLite ignores it, so it gets the lease path."""
    return db_connection.vendor == "postgresql"


def _usable(row: Connection) -> bool:
    if not row.access_token_encrypted:
        return False
    # A token without an expiry is used until the API refuses it (then refresh_after_unauthorized).
    return row.expires_at is None or row.expires_at > timezone.now() + REFRESH_MARGIN


def _fail_fast(row: Connection) -> None:
    name = row.get_provider_display()
    if row.status == ConnectionStatus.NEEDS_RECONNECT:
        raise NeedsReconnect(f"{name} needs reconnecting: {row.status_reason or 'the connection was refused'}")
    if row.status == ConnectionStatus.DISCONNECTED or not row.access_token_encrypted:
        raise NeedsReconnect(f"{name} is not connected: an Admin must connect it on the Connections page.")


def _read(row: Connection, ciphertext: str) -> str:
    try:
        return decrypt(ciphertext)
    except TokenDecryptionError:
        name = row.get_provider_display()
        message = (
            f"The stored {name} tokens cannot be decrypted with the configured TOKEN_ENCRYPTION_KEYS (the key "
            f"was changed, or an old key removed before `manage.py rotate_token_key` ran): reconnect {name} on "
            "the Connections page, or restore the previous key."
        )
        raise UnreadableTokens(message) from None


def _fetch_new_tokens(row: Connection) -> oauth.TokenSet:
    if row.grant == Grant.CLIENT_CREDENTIALS:
        return oauth.client_credentials(provider=row.provider)
    refresh_token = _read(row, row.refresh_token_encrypted)
    if not refresh_token:
        raise oauth.GrantRefused("no refresh token is stored (was offline_access granted?)", error="no_refresh_token")
    return oauth.refresh(provider=row.provider, refresh_token=refresh_token)


def _store(row: Connection, tokens: oauth.TokenSet, *, expected_version: int) -> bool:
    """Save the new pair if nobody else has since; True when saved."""
    values = {
        "access_token_encrypted": encrypt(tokens.access_token),
        "expires_at": tokens.expires_at,
        "token_version": F("token_version") + 1,
        "refresh_claimed_until": None,
        "refreshed_at": timezone.now(),
    }
    if tokens.refresh_token:
        values["refresh_token_encrypted"] = encrypt(tokens.refresh_token)
    if tokens.scope:
        values["scope"] = tokens.scope
    return bool(Connection.objects.filter(pk=row.pk, token_version=expected_version).update(**values))


def _release_claim(connection_id: int, version: int) -> None:
    Connection.objects.filter(pk=connection_id, token_version=version).update(refresh_claimed_until=None)


def _refused(row: Connection, exc: oauth.GrantRefused) -> NeedsReconnect:
    reason = f"{row.get_provider_display()} refused to renew the token: {exc.reason}"
    mark_needs_reconnect(row, reason=exc.reason)
    return NeedsReconnect(reason)
