"""`manage.py rotate_token_key`: re-encrypt every stored token with the newest key.

Key rotation: put a new Fernet key first in TOKEN_ENCRYPTION_KEYS (keep the old ones after it),
restart, run this command, then remove the old keys.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from syncapp.connections.crypto import TokenDecryptionError, rotate
from syncapp.connections.models import Connection


class Command(BaseCommand):
    help = "Re-encrypt every stored OAuth token with the first key of TOKEN_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        count = 0
        try:
            with transaction.atomic():
                # Lock the rows so a refresh cannot store a token between our read and our write.
                for connection in Connection.objects.select_for_update().order_by("pk"):
                    connection.access_token_encrypted = rotate(connection.access_token_encrypted)
                    connection.refresh_token_encrypted = rotate(connection.refresh_token_encrypted)
                    connection.save(update_fields=["access_token_encrypted", "refresh_token_encrypted"])
                    count += 1
        except TokenDecryptionError as exc:
            raise CommandError(f"{exc} Nothing was changed.") from None
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the tokens of {count} connection(s) with the newest key."))
