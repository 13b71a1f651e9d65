"""Every Procore API request the product sends from this process, by method and endpoint.

Installed by wrapping httpx.Client.send in the bench process (where the run executes), so the
sandbox's answers stay exactly as they are. Ids in paths become {id}; the filters a list call
uses are part of the endpoint's name ("/rest/v1.0/work_order_contracts [filters[updated_at]]").
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

# Query parameters that say WHAT a list call reads (they go into the endpoint's name in the table);
# paging and scoping parameters do not.
SCOPE_PARAMS = {"page", "per_page", "company_id", "project_id", "commitment_id", "contract_id", "view"}


@dataclass(frozen=True)
class Call:
    method: str
    endpoint: str  # "/rest/v1.0/work_order_contracts [filters[updated_at]]"
    project_id: int | None


@dataclass
class EndpointCounter:
    """Every Procore API request this process sends, by method and endpoint (ids replaced by {id})."""

    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        import httpx

        counter = self
        original_send = httpx.Client.send

        def send(self, request, *args, **kwargs):
            call = counter.classify(request.method, str(request.url.path), request.url.query.decode())
            if call is not None:
                with counter._lock:
                    counter.calls.append(call)
            return original_send(self, request, *args, **kwargs)

        httpx.Client.send = send

    @staticmethod
    def classify(method: str, path: str, query: str) -> Call | None:
        if "/rest/" not in path:
            return None  # the token endpoint, Xero
        path = path[path.index("/rest/") :]
        params = dict(parse_qsl(query))
        project = params.get("project_id")
        matched = re.search(r"/projects/(\d+)", path)
        project_id = int(project) if project and project.isdigit() else int(matched[1]) if matched else None
        template = re.sub(r"/\d+(?=/|$)", "/{id}", path)
        what = sorted(name for name in params if name not in SCOPE_PARAMS)
        return Call(method, template + (f" [{', '.join(what)}]" if what else ""), project_id)

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def since(self, mark: int) -> list[Call]:
        with self._lock:
            return self.calls[mark:]


def largest(calls: list[Call], count: int = 3, *, method: str | None = None) -> str:
    """The endpoints called most, e.g. "GET /rest/v1.0/commitments/{id} x8; ..." ("none" when empty)."""
    counted = Counter(f"{c.method} {c.endpoint}" for c in calls if method is None or c.method == method)
    return "; ".join(f"{name} x{n}" for name, n in counted.most_common(count)) or "none"
