"""Integrations and their OAuth connections.

An Integration pairs one Xero organisation with one Procore company. Each has at most one
Connection per provider, which holds the (encrypted) tokens and the connection's health.
"""

from django.conf import settings
from django.db import models


class Integration(models.Model):
    # The short name in URLs (?integration=) and commands (--integration); never changes meaning.
    name = models.SlugField(max_length=50, unique=True)
    # What people read in the switcher and page titles ("Northwind AU"); empty means the name.
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.label or self.name


class Provider(models.TextChoices):
    XERO = "xero", "Xero"
    PROCORE = "procore", "Procore"


class Grant(models.TextChoices):
    AUTHORIZATION_CODE = "authorization_code", "Signed in by a user"
    CLIENT_CREDENTIALS = "client_credentials", "Headless (client credentials)"


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
    DISCONNECTED = "disconnected", "Disconnected"


class Connection(models.Model):
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="connections")
    provider = models.CharField(max_length=10, choices=Provider.choices)
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED)
    grant = models.CharField(max_length=30, choices=Grant.choices, default=Grant.AUTHORIZATION_CODE)
    # Xero: the tenant id (uuid) of the organisation. Procore: the company id (64-bit, as text).
    tenant_id = models.CharField(max_length=64, blank=True)
    tenant_name = models.CharField(max_length=255, blank=True)
    # Xero's id of the app-to-organisation connection, needed to remove it on disconnect.
    xero_connection_id = models.CharField(max_length=64, blank=True)
    # Fernet ciphertexts (see syncapp.connections.crypto); never the plain tokens.
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.JSONField(default=list, blank=True)
    connected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    connected_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=1000, blank=True)  # the newest call error, in words
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Why the connection needs a reconnect, in words an admin understands (no secrets).
    status_reason = models.CharField(max_length=500, blank=True)
    # Bumped on every token save. A refresh stores its result only if the version is still the
    # one it started from, so two refreshes of one token set can never both be saved.
    token_version = models.PositiveIntegerField(default=0)
    # On SQLite (no row locks) a worker claims the refresh by setting this lease with a
    # conditional UPDATE; the others wait for token_version to move.
    refresh_claimed_until = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "provider"], name="one_connection_per_provider")
        ]

    def __str__(self) -> str:
        return f"{self.integration} {self.provider}"

    @property
    def is_connected(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED

    @property
    def needs_reconnect(self) -> bool:
        return self.status == ConnectionStatus.NEEDS_RECONNECT

    @property
    def tenant_chosen(self) -> bool:
        return bool(self.tenant_id)
