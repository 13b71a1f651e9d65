"""`manage.py sandbox_seed --payments N --seed S [--if-empty] [--reset]`: build the sandbox's world.

Thin: the work is `syncapp.sandbox.seed.seed_world`. `--if-empty` makes it safe to run on every
`make run`; either way the product's OAuth apps are (re)registered from settings.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from syncapp.sandbox.seed import (
    MIN_PAYMENTS,
    WorldExists,
    current_world,
    register_oauth_clients,
    seed_world,
    world_exists,
)


class Command(BaseCommand):
    help = "Seed the sandbox Xero and Procore with a deterministic world of N payments."

    def add_arguments(self, parser):
        parser.add_argument("--payments", type=int, default=300, help=f"Xero payments to create (>= {MIN_PAYMENTS}).")
        parser.add_argument("--seed", type=int, default=1, help="Same seed and size, same world.")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--if-empty", action="store_true", help="Do nothing when a world exists.")
        group.add_argument("--reset", action="store_true", help="Delete both sandboxes' business data first.")

    def handle(self, *args, payments: int, seed: int, if_empty: bool, reset: bool, **options):
        if if_empty:
            if world_exists():
                register_oauth_clients(site_url=settings.SITE_URL)
                world = current_world()
                what = f"{world.payments} payments, seed {world.seed}" if world else "not seeded by sandbox_seed"
                self.stdout.write(f"Sandbox world exists ({what}); left as it is. OAuth apps registered.")
                return
        try:
            summary = seed_world(payments=payments, seed=seed, reset=reset)
        except (WorldExists, ValueError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Seeded {summary.payments} payments (seed {summary.seed}) in {summary.seconds:.1f} s:")
        for name, count in summary.counts.items():
            self.stdout.write(f"  {name:22} {count:>8,}")
        self.stdout.write("  cases: " + ", ".join(f"{name} {len(ids)}" for name, ids in summary.cases.items()))
        self.stdout.write("  expected: " + ", ".join(f"{k} {v}" for k, v in summary.outcome_counts().items()))
        self.stdout.write(f"OAuth apps registered for {settings.SITE_URL}.")
