"""Procore's projects, vendors, commitments and subcontractor invoices kept between runs.

A company of 500 projects costs about 1,500 calls to read in full; Procore's hour may hold 600.
So what Procore told us is kept here, and a run reads only what changed since (`filters[updated_at]`,
see `procore_index`). Objects are stored as the connector's typed objects in JSON, so parsing stays
in the connector and this module only keeps and returns them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from syncapp.connections.models import Integration
from syncapp.connectors.types import ProcoreCommitment, ProcoreProject, ProcoreRequisition, ProcoreVendor
from syncapp.sync.models import ProcoreObject, ProcoreObjectKind, ProcoreReadMark

Kind = ProcoreObjectKind
TYPES: dict[str, type] = {
    Kind.PROJECT: ProcoreProject,
    Kind.VENDOR: ProcoreVendor,
    Kind.COMMITMENT: ProcoreCommitment,
    Kind.REQUISITION: ProcoreRequisition,
}
MONEY_FIELDS = frozenset({"grand_total", "total_amount"})
SWEEP = "sweep"  # the mark of the last full read of every project's commitments and invoices


def as_json(obj: Any) -> dict:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in dataclasses.asdict(obj).items()}


def from_json(kind: str, data: dict) -> Any:
    cls = TYPES[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in names}  # a field dropped since is ignored
    for name in MONEY_FIELDS & values.keys():
        values[name] = Decimal(values[name]) if values[name] is not None else None
    return cls(**values)


class ProcoreStore:
    """The stored copy of one integration's Procore company."""

    def __init__(self, integration: Integration):
        self.integration = integration

    def _rows(self, kind: str):
        return ProcoreObject.objects.filter(integration=self.integration, kind=kind)

    def load(self, kind: str) -> dict[int, Any]:
        return {pk: from_json(kind, data) for pk, data in self._rows(kind).values_list("procore_id", "data")}

    def save(self, kind: str, objects: Iterable[Any]) -> None:
        """Insert or update each object by its Procore id."""
        rows = [
            ProcoreObject(
                integration=self.integration,
                kind=kind,
                procore_id=obj.id,
                project_id=getattr(obj, "project_id", None),
                data=as_json(obj),
            )
            for obj in objects
        ]
        ProcoreObject.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["integration", "kind", "procore_id"],
            update_fields=["project_id", "data"],
        )

    def replace(self, kind: str, objects: list[Any], *, project_id: int | None = None) -> None:
        """A full read: keep exactly these (of the project, when given); the rest are gone."""
        stale = self._rows(kind).exclude(procore_id__in=[o.id for o in objects])
        if project_id is not None:
            stale = stale.filter(project_id=project_id)
        stale.delete()
        self.save(kind, objects)

    # --- projects Procore refused ---------------------------------------------------------------

    def refusals(self) -> dict[int, dict]:
        return dict(self._rows(Kind.REFUSAL).values_list("procore_id", "data"))

    def save_refusal(self, project_id: int, data: dict) -> None:
        ProcoreObject.objects.update_or_create(
            integration=self.integration,
            kind=Kind.REFUSAL,
            procore_id=project_id,
            defaults={"project_id": project_id, "data": data},
        )

    def clear_refusal(self, project_id: int) -> None:
        self._rows(Kind.REFUSAL).filter(procore_id=project_id).delete()

    # --- when each list was read -----------------------------------------------------------------

    def marks(self) -> dict[tuple[str, int], ProcoreReadMark]:
        return {(m.kind, m.project_id): m for m in ProcoreReadMark.objects.filter(integration=self.integration)}

    def set_mark(self, kind: str, project_id: int, *, read_at: dt.datetime, full: bool) -> ProcoreReadMark:
        """Record a read that started at `read_at`: its changes are read from then on next time."""
        defaults: dict[str, Any] = {"changes_from": read_at}
        if full:
            defaults["full_at"] = read_at
        mark, _ = ProcoreReadMark.objects.update_or_create(
            integration=self.integration,
            kind=kind,
            project_id=project_id,
            defaults=defaults,
            create_defaults={"changes_from": read_at, "full_at": read_at},
        )
        return mark
