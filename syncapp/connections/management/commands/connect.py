"""`manage.py connect xero|procore --client-credentials`: connect without a browser.

Xero through a custom connection, Procore through a service account (both the client_credentials
grant). Prints what it connected to; exits non-zero with a clear message on failure.
"""

from django.core.management.base import BaseCommand, CommandError

from syncapp.connections import oauth, services
from syncapp.connections.models import Provider
from syncapp.connectors.types import ConnectorError


class Command(BaseCommand):
    help = "Connect Xero (custom connection) or Procore (service account) headlessly, by client credentials."

    def add_arguments(self, parser):
        parser.add_argument("provider", choices=[p.value for p in Provider])
        parser.add_argument(
            "--client-credentials",
            action="store_true",
            help="Use the client_credentials grant (the only headless way; required).",
        )
        parser.add_argument("--integration", help="Integration name (default: the only one, or a new 'default').")
        parser.add_argument("--company-id", help="Procore company id, when the service account sees several.")

    def handle(self, *args, provider: str, client_credentials: bool, integration: str | None,
               company_id: str | None, **options):
        if not client_credentials:
            raise CommandError(
                "Only --client-credentials can connect from the command line; "
                "use the Connections page in a browser for the sign-in flow."
            )
        if company_id and provider != Provider.PROCORE:
            raise CommandError("--company-id applies to Procore only.")
        try:
            chosen = services.resolve_integration(name=integration)
            connection = services.connect_headless(integration=chosen, provider=provider, company_id=company_id)
        except services.IntegrationChoiceError as exc:
            raise CommandError(f"{exc} Pass --integration NAME.") from None
        except oauth.GrantRefused as exc:
            raise CommandError(f"{Provider(provider).label} refused the client credentials: {exc.reason}") from None
        except ConnectorError as exc:
            raise CommandError(exc.message) from None
        word = services.TENANT_WORD[provider]
        self.stdout.write(
            self.style.SUCCESS(
                f"Connected {connection.get_provider_display()} {word} '{connection.tenant_name}' "
                f"(id {connection.tenant_id}) to integration '{chosen.name}'."
            )
        )
