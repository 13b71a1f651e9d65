"""What the Mappings pickers offer from Procore: its vendors, commitments and subcontractor invoices.

Read through the Procore connector with the integration's own connection, and cached for a minute
per integration so that paging through Mappings does not spend the Procore rate limit on every click.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from syncapp.connections.models import Integration
from syncapp.connectors.types import (
    ConnectorError,
    DataError,
    ProcoreCommitment,
    ProcoreRequisition,
    ProcoreVendor,
)
from syncapp.connectors.values import integer_id

CACHE_SECONDS = 60


class CatalogUnavailable(Exception):
    """Procore could not be read (not connected, refused, down): the message is for people."""


def procore_client(integration: Integration):
    """The Procore client of the integration's connection (close it after use). A web request's
    client: it never sleeps on a rate limit, it says until when the limit is spent."""
    from syncapp.connections.services import get_connection
    from syncapp.sync.clients import interactive_procore_client

    connection = get_connection(integration=integration, provider="procore")
    if connection is None or not connection.tenant_id:
        raise CatalogUnavailable("Procore is not connected: connect it on the Connections page first.")
    return interactive_procore_client(connection)


@dataclass
class Choice:
    value: str  # "<project>:<commitment>:<requisition or empty>"
    label: str
    vendor_id: int | None


def _key(integration: Integration, what: str) -> str:
    return f"dashboard:procore:{integration.pk}:{what}"


def forget(integration: Integration) -> None:
    """Drop the cached lists (after a vendor was created, so it shows at once)."""
    cache.delete_many([_key(integration, "vendors"), _key(integration, "commitments")])


def vendors(integration: Integration) -> list[ProcoreVendor]:
    found = cache.get(_key(integration, "vendors"))
    if found is None:
        try:
            with procore_client(integration) as client:
                found = sorted(client.vendors(), key=lambda v: v.name.lower())
        except ConnectorError as exc:
            raise CatalogUnavailable(f"Could not read Procore's vendors: {exc.message}") from None
        cache.set(_key(integration, "vendors"), found, CACHE_SECONDS)
    return found


def commitment_choices(integration: Integration) -> list[Choice]:
    """Every commitment, and under it each of its subcontractor invoices, as picker options."""
    found = cache.get(_key(integration, "commitments"))
    if found is None:
        try:
            with procore_client(integration) as client:
                found = _choices(client)
        except ConnectorError as exc:
            raise CatalogUnavailable(f"Could not read Procore's commitments: {exc.message}") from None
        cache.set(_key(integration, "commitments"), found, CACHE_SECONDS)
    return found


def _choices(client) -> list[Choice]:
    choices = []
    from syncapp.sync.procore_index import payable

    for project in sorted(client.projects(), key=lambda p: p.name.lower()):
        commitments: list[ProcoreCommitment] = _unless_refused(client.commitments, project.id)
        requisitions: list[ProcoreRequisition] = (
            _unless_refused(client.requisitions, project_id=project.id) if commitments else []
        )
        for commitment in sorted(commitments, key=lambda c: c.number):
            base = f"{project.name} · {commitment.number} {commitment.title}".strip()
            if not payable(commitment):  # offered, but its status says it takes no payments
                base = f"{base} ({commitment.status}: takes no payments)"
            choices.append(Choice(f"{project.id}:{commitment.id}:", f"{base} (no invoice)", commitment.vendor_id))
            for req in requisitions:
                if req.commitment_id == commitment.id:
                    label = f"{base} · invoice {req.invoice_number or req.number} ({req.status})"
                    choices.append(Choice(f"{project.id}:{commitment.id}:{req.id}", label, commitment.vendor_id))
    return choices


def _unless_refused(read, *args, **kwargs) -> list:
    """One project's list, or nothing when Procore refuses that project (403: not in its directory,
    tool off): the other projects stay pickable."""
    try:
        return read(*args, **kwargs)
    except DataError as exc:
        if exc.status == 403:
            return []
        raise


def parse_choice(value: str) -> tuple[int, int, int | None] | None:
    """ "project:commitment:requisition" -> ids, or None when it is not that shape."""
    parts = value.split(":")
    if len(parts) != 3:
        return None
    project_id, commitment_id, requisition_id = (integer_id(part) for part in parts)
    if project_id is None or commitment_id is None or (parts[2] and requisition_id is None):
        return None
    return project_id, commitment_id, requisition_id
