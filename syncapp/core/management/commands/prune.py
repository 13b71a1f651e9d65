"""Deletes run log lines, finished background tasks and webhook deliveries older than
RETENTION_DAYS (syncapp.core.retention says what is kept, and why). Runs daily by itself."""

from django.core.management.base import BaseCommand

from syncapp.core.conf import CoreConf
from syncapp.core.retention import prune


class Command(BaseCommand):
    help = "Delete run log lines, finished background tasks and webhook deliveries older than RETENTION_DAYS."

    def add_arguments(self, parser):
        default = CoreConf.RETENTION_DAYS
        parser.add_argument("--days", type=int, help=f"Keep this many days instead (default {default}).")

    def handle(self, *args, days: int | None = None, **options):
        if days is not None and days < 1:
            self.stderr.write("--days must be 1 or more.")
            raise SystemExit(2)
        deleted = prune(days=days)
        kept = days or CoreConf.RETENTION_DAYS
        for label, count in deleted.items():
            self.stdout.write(f"{label}: {count} deleted")
        self.stdout.write(f"Kept the last {kept} days.")
