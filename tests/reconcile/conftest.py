"""The reconciliation tests reuse the sync tests' world: the seeded sandbox served over HTTP and an
integration connected to it headlessly (client credentials)."""

from __future__ import annotations

import pytest

from tests.sync.conftest import World, fast_retries, world  # noqa: F401  (fixtures)


@pytest.fixture
def synced(world) -> World:  # noqa: F811  (the imported fixture)
    """The world after one real sync: every sendable payment is in Procore."""
    run = world.run()
    assert run.state == "succeeded", run.error
    return world
