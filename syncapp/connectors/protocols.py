"""What the engine may ask of a Xero and a Procore client: the type of every `xero` and `procore`
parameter in syncapp/sync/ and syncapp/reconcile/. `XeroClient` and `ProcoreClient` are what the
factory (`sync/clients.py`) builds; a test may hand the engine anything with these methods."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol, Self

from syncapp.connectors.types import (
    NewContractPayment,
    Page,
    ProcoreCommitment,
    ProcorePayment,
    ProcoreProject,
    ProcoreRequisition,
    ProcoreUser,
    ProcoreVendor,
    TimeRange,
    XeroBill,
    XeroContact,
    XeroOrganisation,
    XeroPayment,
)


class ApiSession(Protocol):
    """A client holds connections and pending health reports until it is closed."""

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...


class XeroApi(ApiSession, Protocol):
    """One Xero organisation, read-only."""

    unreadable: list[str]  # rows left out (no usable id), for the run's log

    def payments_page(self, *, page: int, modified_since: dt.datetime | None = None) -> Page[XeroPayment]: ...

    def bills_page(self, *, page: int, modified_since: dt.datetime | None = None) -> Page[XeroBill]: ...

    def bills_by_ids(self, ids: Iterable[str]) -> list[XeroBill]: ...

    def payments_of_bills(self, bill_ids: Iterable[str]) -> list[XeroPayment]: ...

    def contacts_page(self, *, page: int, modified_since: dt.datetime | None = None) -> Page[XeroContact]: ...

    def contacts_by_ids(self, ids: Iterable[str]) -> list[XeroContact]: ...

    def organisation(self) -> XeroOrganisation: ...


class ProcoreApi(ApiSession, Protocol):
    """One Procore company: the reads the engine and the pickers make, and its three writes."""

    def me(self) -> ProcoreUser: ...

    def projects(self, *, changed: TimeRange | None = None, vendor_id: int | None = None) -> list[ProcoreProject]: ...

    def project_count(self) -> int | None: ...

    def vendors(
        self, *, origin_id: str | None = None, search: str | None = None, changed: TimeRange | None = None
    ) -> list[ProcoreVendor]: ...

    def commitments(
        self, project_id: int, *, deleted: bool = False, changed: TimeRange | None = None
    ) -> list[ProcoreCommitment]: ...

    def commitment(self, commitment_id: int, *, project_id: int) -> tuple[ProcoreCommitment, list[ProcorePayment]]: ...

    def requisitions(
        self,
        *,
        project_id: int,
        commitment_id: int | None = None,
        status: str | None = None,
        origin_id: str | None = None,
        changed: TimeRange | None = None,
    ) -> list[ProcoreRequisition]: ...

    def contract_payments(self, *, project_id: int, commitment_id: int) -> list[ProcorePayment]: ...

    def create_vendor(
        self, *, name: str, origin_id: str, notes: str = "", origin_code: str = "", origin_data: str = ""
    ) -> ProcoreVendor: ...

    def create_contract_payment(self, payment: NewContractPayment) -> ProcorePayment: ...

    def delete_contract_payment(self, payment_id: int, *, project_id: int, commitment_id: int) -> None: ...
