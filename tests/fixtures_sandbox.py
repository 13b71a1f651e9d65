"""A seeded sandbox for tests that need a whole world (import the fixture into a conftest or a
test module: `from tests.fixtures_sandbox import seeded_world  # noqa: F401`).

Tests using it talk to the live server, so they need `@pytest.mark.django_db(transaction=True)`.
"""

import pytest

from syncapp.sandbox.seed import SeedSummary, register_oauth_clients, seed_world

SEEDED_PAYMENTS = 60
SEEDED_SEED = 3


@pytest.fixture
def seeded_world(sandbox) -> SeedSummary:
    """The world of 60 payments (seed 3) with the product's OAuth apps registered to redirect to
    the live server. The summary's `cases` and `expected` say which payment is which case and
    what the product should do with it."""
    summary = seed_world(payments=SEEDED_PAYMENTS, seed=SEEDED_SEED)
    register_oauth_clients(site_url=sandbox)
    return summary
