"""`manage.py sandbox_seed`: build the sandbox's world, or change the one it holds.

    sandbox_seed [--payments N] [--seed S] [--if-empty | --reset]
        the world of cases (default 300 payments, seed 1): `syncapp.sandbox.seed.seed_world`
    sandbox_seed --projects 500 --commitments 5000 --invoices 20000 [--vendors N] [--payments N]
                 [--seed S] [--if-empty | --reset]
        a large company instead: `syncapp.sandbox.seed.seed_company` (seeding/company.py)
    sandbox_seed --add-payments 10 [--on-projects 3] [--new-invoices] [--seed S]
        pay approved bills on a few projects of the world in place, now
        (`syncapp.sandbox.seeding.changes.add_payments`)
    sandbox_seed --second-company [--payments N] [--seed S]
        a second Xero organisation and Procore company with a world of their own, beside the
        first, for a second integration (`syncapp.sandbox.seed.seed_second_company`)

Thin: the work is in those functions. `--if-empty` makes it safe to run on every `make run`;
either way the product's OAuth apps are (re)registered from settings.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from syncapp.sandbox.seed import (
    MIN_PAYMENTS,
    CompanySize,
    SeedSummary,
    WorldExists,
    current_world,
    register_oauth_clients,
    seed_company,
    seed_second_company,
    seed_world,
    world_exists,
)
from syncapp.sandbox.seeding.changes import add_payments

COMPANY_OPTIONS = ("projects", "commitments", "invoices", "vendors")


class Command(BaseCommand):
    help = "Seed the sandbox Xero and Procore with a deterministic world, or add payments to it."

    def add_arguments(self, parser):
        parser.add_argument("--payments", type=int, default=300, help=f"Xero payments to create (>= {MIN_PAYMENTS}).")
        parser.add_argument("--seed", type=int, default=1, help="Same seed and size, same world.")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--if-empty", action="store_true", help="Do nothing when a world exists.")
        group.add_argument("--reset", action="store_true", help="Delete both sandboxes' business data first.")
        company = parser.add_argument_group("a large company instead of the world of cases")
        company.add_argument("--projects", type=int, help="Projects (turns the large company on).")
        company.add_argument("--commitments", type=int, help="Commitments (default: 10 per project).")
        company.add_argument("--invoices", type=int, help="Subcontractor invoices (default: 4 per commitment).")
        company.add_argument("--vendors", type=int, help="Vendors (default: one per 4 commitments).")
        parser.add_argument(
            "--second-company",
            action="store_true",
            dest="second_company",
            help="Seed a second organisation and company (for a second integration), keeping the first.",
        )
        change = parser.add_argument_group("change the world in place")
        change.add_argument("--add-payments", type=int, dest="add_payments", help="Pay this many approved bills now.")
        change.add_argument("--on-projects", type=int, default=3, dest="on_projects", help="Spread over this many.")
        change.add_argument(
            "--new-invoices",
            action="store_true",
            dest="new_invoices",
            help="Each on a subcontractor invoice approved in Procore now (else on one that existed).",
        )

    def handle(self, *args, **options):
        if options["add_payments"] is not None:
            return self._add_payments(options)
        if options["second_company"]:
            return self._second_company(options)
        if options["if_empty"] and world_exists():
            register_oauth_clients(site_url=settings.SITE_URL)
            world = current_world()
            what = f"{world.payments} payments, seed {world.seed}" if world else "not seeded by sandbox_seed"
            self.stdout.write(f"Sandbox world exists ({what}); left as it is. OAuth apps registered.")
            return
        try:
            summary = self._seed(options)
        except (WorldExists, ValueError) as error:
            raise CommandError(str(error)) from error
        self._report(summary)

    def _seed(self, options) -> SeedSummary:
        payments, seed, reset = options["payments"], options["seed"], options["reset"]
        if options["projects"] is None:
            if any(options[name] is not None for name in COMPANY_OPTIONS):
                raise CommandError("A large company needs --projects (and takes --commitments, --invoices, --vendors).")
            return seed_world(payments=payments, seed=seed, reset=reset)
        projects = options["projects"]
        commitments = options["commitments"] or 10 * projects
        size = CompanySize.of(
            projects=projects,
            commitments=commitments,
            invoices=4 * commitments if options["invoices"] is None else options["invoices"],
            vendors=options["vendors"],
            payments=payments,
        )
        return seed_company(size=size, seed=seed, reset=reset)

    def _second_company(self, options) -> None:
        if options["reset"] or options["if_empty"] or any(options[name] is not None for name in COMPANY_OPTIONS):
            raise CommandError(
                "--second-company seeds beside the first world: leave out --reset, --if-empty and sizes."
            )
        try:
            summary = seed_second_company(payments=options["payments"], seed=options["seed"])
        except (WorldExists, ValueError) as error:
            raise CommandError(str(error)) from error
        self._report(summary)

    def _add_payments(self, options) -> None:
        if options["reset"] or options["if_empty"] or any(options[name] is not None for name in COMPANY_OPTIONS):
            raise CommandError("--add-payments changes the world in place: leave out --reset, --if-empty and sizes.")
        try:
            added = add_payments(
                count=options["add_payments"],
                projects=options["on_projects"],
                new_invoices=options["new_invoices"],
                seed=options["seed"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        on = "new subcontractor invoices" if added.new_invoices else "existing subcontractor invoices"
        self.stdout.write(
            f"Added {len(added.payment_ids)} payments on {on} of projects {', '.join(map(str, added.project_ids))}."
        )

    def _report(self, summary: SeedSummary) -> None:
        self.stdout.write(f"Seeded {summary.payments} payments (seed {summary.seed}) in {summary.seconds:.1f} s:")
        for name, count in summary.counts.items():
            self.stdout.write(f"  {name:22} {count:>8,}")
        self.stdout.write("  cases: " + ", ".join(f"{name} {len(ids)}" for name, ids in summary.cases.items()))
        self.stdout.write("  expected: " + ", ".join(f"{k} {v}" for k, v in summary.outcome_counts().items()))
        self.stdout.write(f"OAuth apps registered for {settings.SITE_URL}.")
