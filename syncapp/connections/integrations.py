"""Adding, renaming and removing integrations (one Xero organisation ↔ one Procore company).

The Integrations page and its tests call these; each change is one audit entry. Removing revokes
both connections first (as Disconnect does), then deletes the integration with everything the
sync kept for it, and refuses while one of its runs or reconciliations is under way.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from syncapp.connections import services
from syncapp.connections.models import Connection, ConnectionStatus, Integration
from syncapp.core.audit import record
from syncapp.core.jobs import ACTIVE_STATES
from syncapp.reconcile.models import ReconciliationReport
from syncapp.sync.models import ACTIVE_RUN_STATES, RunState, SyncRun

NAME_LENGTH = Integration._meta.get_field("name").max_length
LABEL_LENGTH = Integration._meta.get_field("label").max_length


class IntegrationRefused(ValueError):
    """The change cannot be made; the message says why and what to do, in plain words."""


def short_name_for(label: str) -> str:
    """The short name a display name suggests: "Northwind (AU)" -> "northwind-au"."""
    return slugify(label)[:NAME_LENGTH].strip("-")


def _check_name(name: str, *, keep: Integration | None = None) -> str:
    name = name.strip().lower()
    if not name:
        raise IntegrationRefused("Give a short name of letters, digits and hyphens (for links and commands).")
    if name != slugify(name) or len(name) > NAME_LENGTH:
        raise IntegrationRefused(
            f"A short name has only lower-case letters, digits and hyphens, at most {NAME_LENGTH} characters."
        )
    taken = Integration.objects.filter(name=name)
    if keep is not None:
        taken = taken.exclude(pk=keep.pk)
    if taken.exists():
        raise IntegrationRefused(f"An integration named {name!r} exists already: choose another short name.")
    return name


def _check_label(label: str) -> str:
    label = " ".join(label.split())
    if not label:
        raise IntegrationRefused("Give the integration a name people recognise, such as “Northwind AU”.")
    if len(label) > LABEL_LENGTH:
        raise IntegrationRefused(f"A name has at most {LABEL_LENGTH} characters.")
    return label


def create_integration(*, label: str, name: str = "", actor=None) -> Integration:
    label = _check_label(label)
    name = _check_name(name or short_name_for(label))
    with transaction.atomic():
        integration = Integration.objects.create(name=name, label=label)
        record(
            action="integration.added",
            summary=f"Added integration “{label}” ({name})",
            actor=actor,
            integration=integration,
            name=name,
            label=label,
        )
    return integration


def rename_integration(*, integration: Integration, label: str, name: str, actor=None) -> Integration:
    """A new display name and/or short name. Links and commands that used the old short name stop
    finding it; everything else (connections, payments, runs, settings) stays with the integration."""
    label = _check_label(label)
    name = _check_name(name, keep=integration)
    before = {"name": integration.name, "label": integration.display_name}
    if before == {"name": name, "label": label}:
        return integration
    with transaction.atomic():
        Integration.objects.filter(pk=integration.pk).update(name=name, label=label)
        integration.name, integration.label = name, label
        record(
            action="integration.renamed",
            summary=f"Renamed integration “{before['label']}” ({before['name']}) to “{label}” ({name})",
            actor=actor,
            integration=integration,
            before=before,
            after={"name": name, "label": label},
        )
    return integration


def busy_with(integration: Integration) -> str | None:
    """Why the integration cannot be removed now (a run or a reconciliation not over), else None."""
    run = (
        SyncRun.objects.filter(integration=integration, state__in=(*ACTIVE_RUN_STATES, RunState.PAUSED))
        .order_by("-pk")
        .first()
    )
    if run is not None:
        doing = "waits to resume after a rate limit" if run.state == RunState.PAUSED else f"is {run.state}"
        return f"Run #{run.pk} of this integration {doing}: remove it once the run has ended."
    report = ReconciliationReport.objects.filter(integration=integration, state__in=ACTIVE_STATES).first()
    if report is not None:
        return f"Reconciliation #{report.pk} of this integration is being built: remove it once it has ended."
    return None


def remove_integration(*, integration: Integration, actor=None) -> list[str]:
    """Revoke its connections, then delete it with its payments, runs, mappings and reports here
    (nothing in Xero or Procore changes). Returns warnings about revocations that failed.
    Raises IntegrationRefused while a run or reconciliation of it is under way."""
    problem = busy_with(integration)
    if problem:
        raise IntegrationRefused(problem)
    warnings: list[str] = []
    live = Connection.objects.filter(integration=integration).exclude(status=ConnectionStatus.DISCONNECTED)
    for connection in live:
        warnings += services.disconnect(connection, actor=actor)
    with transaction.atomic():
        # A run inserted meanwhile either committed before this lock (seen below) or checks its
        # foreign key at its commit, which waits for this lock and then fails: the integration is
        # gone. Never a removal during a run, never a run of a removed integration.
        locked = Integration.objects.select_for_update().filter(pk=integration.pk).first()
        if locked is None:
            return warnings
        problem = busy_with(locked)
        if problem:
            raise IntegrationRefused(problem + " Its connections were disconnected: reconnect them to go on.")
        record(
            action="integration.removed",
            summary=f"Removed integration “{locked.display_name}” ({locked.name})",
            actor=actor,
            name=locked.name,
            label=locked.label,
            warnings=warnings,
        )
        locked.delete()
    return warnings
