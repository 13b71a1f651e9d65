"""What the Mappings pickers offer from Procore: its vendors, commitments and subcontractor invoices.

Read through the Procore connector with the integration's own connection, and cached for a minute
per integration so that paging through Mappings does not spend the Procore rate limit on every click.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache

from syncapp.connections.models import Integration
from syncapp.connections.services import get_connection
from syncapp.connectors.protocols import ProcoreApi
from syncapp.connectors.types import (
    ConnectorError,
    DataError,
    ProcoreCommitment,
    ProcoreRequisition,
    ProcoreVendor,
)
from syncapp.connectors.values import integer_id
from syncapp.sync.clients import interactive_procore_client
from syncapp.sync.procore_index import payable

CACHE_SECONDS = 60


class CatalogUnavailable(Exception):
    """Procore could not be read (not connected, refused, down): the message is for people."""


def procore_client(integration: Integration) -> ProcoreApi:
    """The Procore client of the integration's connection (close it after use). A web request's
    client: it never sleeps on a rate limit, it says until when the limit is spent."""
    connection = get_connection(integration=integration, provider="procore")
    if connection is None or not connection.tenant_id:
        raise CatalogUnavailable("Procore is not connected: connect it on the Connections page first.")
    return interactive_procore_client(connection)


@dataclass
class Choice:
    value: str  # "<project>:<commitment>:<requisition or empty>"
    label: str
    vendor_id: int | None
    project_id: int | None = None
    project_name: str = ""
    number: str = ""  # the commitment's
    title: str = ""
    invoice: str = ""  # the subcontractor invoice's number, when the choice names one

    @property
    def short(self) -> str:
        """What a linked bill shows: the commitment's number and title (and invoice)."""
        text = f"{self.number} {self.title}".strip() or self.label
        return f"{text} · invoice {self.invoice}" if self.invoice else text

    def matches(self, words: list[str]) -> bool:
        """Every searched word is in the commitment's or its invoice's number, title or project."""
        text = f"{self.number} {self.invoice} {self.title} {self.project_name}".casefold()
        return all(word in text for word in words)


@dataclass
class OptionGroup:
    label: str
    choices: list[Choice]


@dataclass
class Picker:
    """The options one bill's picker shows, in groups, and how many more a search would reach."""

    groups: list[OptionGroup]
    hidden: int
    query: str

    @property
    def shown(self) -> int:
        return sum(len(g.choices) for g in self.groups)


PICKER_LIMIT = 50


def picker(
    choices: list[Choice],
    *,
    vendor_id: int | None,
    vendor_name: str = "",
    project_id: int | None = None,
    project_name: str = "",
    query: str = "",
    limit: int = PICKER_LIMIT,
) -> Picker:
    """A bill's picker: its vendor's commitments, those on the bill's project first; other
    vendors' commitments only when searched for (or when the bill's vendor is not known). A
    search keeps the commitments whose number, title, invoice or project has every word."""
    words = query.casefold().split()
    found = [c for c in choices if c.matches(words)] if words else list(choices)
    on_project = _on_project(project_id, project_name)
    if vendor_id is None:
        buckets = _by_project(found, on_project, "On this bill's project", "Other projects")
        hidden = 0
    else:
        who = vendor_name or "The vendor"
        own = [c for c in found if c.vendor_id == vendor_id]
        others = [c for c in found if c.vendor_id != vendor_id]
        buckets = _by_project(own, on_project, f"{who}: on this bill's project", f"{who}: other projects")
        if words:
            buckets.append(("Other vendors", others))
        hidden = 0 if words else len(others)
    groups, cut = _fill(buckets, limit)
    return Picker(groups, hidden + cut, query)


def _on_project(project_id: int | None, project_name: str) -> Callable[[Choice], bool]:
    """Whether a choice is on the bill's project: the same Procore id, or the same name ignoring case."""
    project = project_name.strip().casefold()

    def on_project(c: Choice) -> bool:
        return (project_id is not None and c.project_id == project_id) or bool(
            project and c.project_name.casefold() == project
        )

    return on_project


def _by_project(
    choices: list[Choice], on_project: Callable[[Choice], bool], here: str, elsewhere: str
) -> list[tuple[str, list[Choice]]]:
    return [(here, [c for c in choices if on_project(c)]), (elsewhere, [c for c in choices if not on_project(c)])]


def _fill(buckets: list[tuple[str, list[Choice]]], limit: int) -> tuple[list[OptionGroup], int]:
    """The non-empty groups in order until `limit` options are shown, and how many did not fit."""
    groups, cut, room = [], 0, limit
    for label, items in buckets:
        if items and room > 0:
            groups.append(OptionGroup(label, items[:room]))
        cut += max(0, len(items) - room)
        room -= min(room, len(items))
    return groups, cut


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


def _choices(client: ProcoreApi) -> list[Choice]:
    choices = []
    for project in sorted(client.projects(), key=lambda p: p.name.lower()):
        commitments: list[ProcoreCommitment] = _unless_refused(client.commitments, project.id)
        requisitions: list[ProcoreRequisition] = (
            _unless_refused(client.requisitions, project_id=project.id) if commitments else []
        )
        for commitment in sorted(commitments, key=lambda c: c.number):
            base = f"{project.name} · {commitment.number} {commitment.title}".strip()
            if not payable(commitment):  # offered, but its status says it takes no payments
                base = f"{base} ({commitment.status}: takes no payments)"
            known = {
                "vendor_id": commitment.vendor_id,
                "project_id": project.id,
                "project_name": project.name,
                "number": commitment.number,
                "title": commitment.title,
            }
            choices.append(Choice(f"{project.id}:{commitment.id}:", f"{base} (no invoice)", **known))
            for req in requisitions:
                if req.commitment_id == commitment.id:
                    invoice = str(req.invoice_number or req.number or "")
                    label = f"{base} · invoice {invoice} ({req.status})"
                    choices.append(Choice(f"{project.id}:{commitment.id}:{req.id}", label, invoice=invoice, **known))
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
