"""`manage.py demo_connect --wait-for URL`: `make run`'s last step, so the demo opens ready to
click Get All Payments. Once the web server answers (the sandbox's token endpoints are served by
it), each provider not yet connected is connected to the sandbox by client credentials, as
`manage.py connect X --client-credentials` does. Sandbox only: a real Xero or Procore is
connected by an Admin on the Connections page. Reconnecting there runs the browser sign-in flow.
"""

import time

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from syncapp.connections import oauth, services
from syncapp.connections.models import Connection, ConnectionStatus, Integration, Provider
from syncapp.connectors.types import ConnectorError


class Command(BaseCommand):
    help = "Demo only: once the web server answers, connect the sandbox Xero and Procore where not connected yet."

    def add_arguments(self, parser):
        parser.add_argument("--wait-for", required=True, help="The web server's URL (it serves the sandbox).")
        parser.add_argument("--timeout", type=float, default=60.0, help="Seconds to wait for it (default 60).")

    def handle(self, *args, wait_for: str, timeout: float, **options):
        if not settings.SANDBOX_ENABLED:
            raise CommandError("demo_connect connects the sandbox only; connect real services on the Connections page.")
        if not _answers(wait_for, timeout=timeout):
            raise CommandError(f"No answer from {wait_for} within {timeout:.0f} s: connect on the Connections page.")
        try:
            integration = services.resolve_integration()
        except services.IntegrationChoiceError as exc:
            raise CommandError(f"{exc} Connect each on the Connections page.") from None
        for provider in Provider:
            self._connect(integration, provider)

    def _connect(self, integration: Integration, provider: Provider) -> None:
        if Connection.objects.filter(
            integration=integration, provider=provider, status=ConnectionStatus.CONNECTED
        ).exists():
            return
        try:
            connection = services.connect_headless(integration=integration, provider=provider)
        except oauth.GrantRefused as exc:
            return self._not_connected(provider, exc.reason)
        except ConnectorError as exc:
            return self._not_connected(provider, exc.message)
        self.stdout.write(f"  Connected the sandbox {provider.label}: {connection.tenant_name}")

    def _not_connected(self, provider: Provider, reason: str) -> None:
        self.stderr.write(f"  {provider.label} not connected ({reason}): connect it on the Connections page.")


def _answers(url: str, *, timeout: float) -> bool:
    """Whether the server at `url` answers anything before `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url.rstrip('/')}/healthz", timeout=2)
            return True
        except httpx.TransportError:
            time.sleep(0.25)
    return False
