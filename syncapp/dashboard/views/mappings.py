"""Mappings (Admins): Xero contacts and their Procore vendors (automatic matches, suggestions and
why; confirm, link, unlink, create the vendor in Procore), and the bills that wait for a person to
pick their Procore commitment and invoice. Every write goes through the sync engine's services."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from syncapp.connectors.types import ConnectorError
from syncapp.connectors.values import integer_id
from syncapp.core.roles import admin_required
from syncapp.dashboard import procore_catalog, selectors
from syncapp.dashboard.views.common import page_integration, pager
from syncapp.sync import services
from syncapp.sync.matching import name_likeness
from syncapp.sync.models import LinkHow, VendorLink
from syncapp.sync.services import ActionRefused

CONTACTS_PER_PAGE = 50
# A posted id that names nothing we read from Xero: stale page, or made up.
UNKNOWN_CONTACT = "That is not a Xero contact of this integration (any more): pick one from the list."


def _back(request: HttpRequest, name: str, integration, integrations) -> HttpResponse:
    url = reverse(name)
    params = []
    if integration is not None and len(integrations) > 1:
        params.append(f"integration={integration.name}")
    if request.POST.get("show") == "all":
        params.append("show=all")
    return redirect(f"{url}?{'&'.join(params)}" if params else url)


@admin_required
def vendor_mappings(request: HttpRequest) -> HttpResponse:
    integrations, integration = page_integration(request)
    show = "all" if request.GET.get("show") == "all" else "attention"
    rows = selectors.contact_rows(integration=integration, show=show) if integration else []
    # The contact a blocked payment sent us to comes first, whatever the order.
    focus = request.GET.get("contact", "")
    rows.sort(key=lambda r: r.contact_id != focus)
    page = Paginator(rows, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    for row in page.object_list:
        if row.status == "suggestion" and row.link.how == LinkHow.NAME_SUGGESTION:
            row.likeness = name_likeness(row.name, row.link.vendor_name)
    vendors, catalog_error = [], ""
    if integration is not None and any(r.status != "linked" for r in page.object_list):
        try:
            vendors = procore_catalog.vendors(integration)
        except procore_catalog.CatalogUnavailable as exc:
            catalog_error = str(exc)
    return render(
        request,
        "dashboard/mappings.html",
        {
            "integrations": integrations,
            "integration": integration,
            "tab": "vendors",
            "show": show,
            "rows": page.object_list,
            "pager": pager(request, page),
            "vendors": vendors,
            "catalog_error": catalog_error,
            "focus": focus,
        },
    )


@require_POST
@admin_required
def vendor_link(request: HttpRequest) -> HttpResponse:
    integrations, integration = page_integration(request)
    contact_id = request.POST.get("contact_id", "")
    vendor_id = integer_id(request.POST.get("vendor_id", ""))
    if integration is None or not contact_id or vendor_id is None:
        messages.error(request, "Pick a Procore vendor to link.")
        return _back(request, "mappings", integration, integrations)
    if not selectors.is_known_contact(integration=integration, contact_id=contact_id):
        messages.error(request, UNKNOWN_CONTACT)
        return _back(request, "mappings", integration, integrations)
    try:
        vendor = next((v for v in procore_catalog.vendors(integration) if v.id == vendor_id), None)
    except procore_catalog.CatalogUnavailable as exc:
        messages.error(request, str(exc))
        return _back(request, "mappings", integration, integrations)
    if vendor is None:
        messages.error(request, "That vendor is not in Procore (any more). Pick another.")
        return _back(request, "mappings", integration, integrations)
    services.link_vendor(
        integration=integration,
        xero_contact_id=contact_id,
        procore_vendor_id=vendor.id,
        vendor_name=vendor.name,
        actor=request.user,
    )
    messages.success(request, f"Linked to Procore vendor “{vendor.name}”. Blocked payments go on the next run.")
    return _back(request, "mappings", integration, integrations)


@require_POST
@admin_required
def vendor_confirm(request: HttpRequest, link_id: int) -> HttpResponse:
    integrations, _ = page_integration(request)
    link = get_object_or_404(VendorLink.objects.select_related("integration"), pk=link_id)
    services.confirm_suggestion(link=link, actor=request.user)
    messages.success(request, f"Confirmed: “{link.contact_name}” is Procore vendor “{link.vendor_name}”.")
    return _back(request, "mappings", link.integration, integrations)


@require_POST
@admin_required
def vendor_unlink(request: HttpRequest, link_id: int) -> HttpResponse:
    integrations, _ = page_integration(request)
    link = get_object_or_404(VendorLink.objects.select_related("integration"), pk=link_id)
    try:
        services.unlink_vendor(link=link, actor=request.user)
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Unlinked “{link.contact_name}”: its unsent payments are held back from the next run until you "
            "link the right vendor or create one.",
        )
    return _back(request, "mappings", link.integration, integrations)


@require_POST
@admin_required
def vendor_create(request: HttpRequest) -> HttpResponse:
    """Create the vendor in Procore from the Xero contact, then link it."""
    integrations, integration = page_integration(request)
    contact_id = request.POST.get("contact_id", "")
    if integration is None or not contact_id:
        messages.error(request, "Say which Xero contact to create in Procore.")
        return _back(request, "mappings", integration, integrations)
    if not selectors.is_known_contact(integration=integration, contact_id=contact_id):
        messages.error(request, UNKNOWN_CONTACT)
        return _back(request, "mappings", integration, integrations)
    try:
        with procore_catalog.procore_client(integration) as client:
            link = services.create_vendor_from_contact(
                integration=integration, xero_contact_id=contact_id, procore=client, actor=request.user
            )
    except (procore_catalog.CatalogUnavailable, ConnectorError) as exc:
        messages.error(request, f"Procore did not create the vendor: {getattr(exc, 'message', exc)}")
    else:
        procore_catalog.forget(integration)
        messages.success(request, f"Created vendor “{link.vendor_name}” in Procore and linked it.")
    return _back(request, "mappings", integration, integrations)


@admin_required
def bill_mappings(request: HttpRequest) -> HttpResponse:
    """Bills that wait for a person to pick their commitment, each with a picker of its vendor's
    commitments (searchable by number), and the bills already linked that wait for the next run.
    An htmx search answers with one picker's options alone."""
    integrations, integration = page_integration(request)
    bills = selectors.bill_rows(integration=integration) if integration else []
    focus = request.GET.get("bill", "")
    query = request.GET.get("q", "")[:100]
    bills.sort(key=lambda b: b.xero_invoice_id != focus)
    choices, catalog_error = _commitment_choices(integration) if bills else ([], "")
    vendor_of = selectors.vendor_ids_by_contact(integration=integration) if integration else {}
    _add_pickers(bills, choices, vendor_of=vendor_of, focus=focus, query=query)
    if request.htmx and focus:
        bill = next((b for b in bills if b.xero_invoice_id == focus), None)
        return render(request, "dashboard/components/bill_picker_options.html", {"b": bill})
    return render(
        request,
        "dashboard/mappings.html",
        {
            "integrations": integrations,
            "integration": integration,
            "tab": "bills",
            "bills": [b for b in bills if b.link is None],
            "linked_bills": [b for b in bills if b.link is not None],
            "has_choices": bool(choices),
            "catalog_error": catalog_error,
            "focus": focus,
            "query": query,
        },
    )


def _add_pickers(
    bills: list, choices: list[procore_catalog.Choice], *, vendor_of: dict[str, int], focus: str, query: str
) -> None:
    """Give each bill its picker (the search applies to the focused bill alone) and, once linked, the
    words for what it is linked to."""
    by_value = {c.value: c for c in choices}
    for bill in bills:
        vendor_id = vendor_of.get(bill.xero_contact_id)
        bill.vendor_known = vendor_id is not None
        bill.picker = procore_catalog.picker(
            choices,
            vendor_id=vendor_id,
            vendor_name=bill.vendor_name,
            project_id=bill.project_id,
            project_name=bill.project_name,
            query=query if bill.xero_invoice_id == focus else "",
        )
        if bill.link is not None:
            bill.linked_to = _linked_to(bill.link, by_value)


def _commitment_choices(integration) -> tuple[list[procore_catalog.Choice], str]:
    """Procore's commitments to pick from, or none and why Procore could not list them."""
    try:
        return procore_catalog.commitment_choices(integration), ""
    except procore_catalog.CatalogUnavailable as exc:
        return [], str(exc)


def _linked_to(link, by_value: dict[str, procore_catalog.Choice]) -> str:
    """The picked commitment's number and title; its id when Procore no longer lists it."""
    picked = by_value.get(f"{link.procore_project_id}:{link.procore_commitment_id}:{link.procore_requisition_id or ''}")
    return picked.short if picked else f"commitment #{link.procore_commitment_id}"


@require_POST
@admin_required
def bill_link(request: HttpRequest) -> HttpResponse:
    integrations, integration = page_integration(request)
    bill_id = request.POST.get("xero_invoice_id", "")
    picked = procore_catalog.parse_choice(request.POST.get("choice", ""))
    if integration is None or not bill_id or picked is None:
        messages.error(request, "Pick the Procore commitment (and invoice) for this bill.")
        return _back(request, "mapping-bills", integration, integrations)
    if not selectors.is_known_bill(integration=integration, xero_invoice_id=bill_id):
        messages.error(request, "That is not a Xero bill of this integration (any more): pick one from the list.")
        return _back(request, "mapping-bills", integration, integrations)
    try:
        offered = {c.value: c for c in procore_catalog.commitment_choices(integration)}
    except procore_catalog.CatalogUnavailable as exc:
        messages.error(request, str(exc))
        return _back(request, "mapping-bills", integration, integrations)
    if request.POST["choice"] not in offered:
        messages.error(request, "That commitment is not in Procore (any more). Pick another.")
        return _back(request, "mapping-bills", integration, integrations)
    project_id, commitment_id, requisition_id = picked
    services.link_bill(
        integration=integration,
        xero_invoice_id=bill_id,
        procore_project_id=project_id,
        procore_commitment_id=commitment_id,
        procore_requisition_id=requisition_id,
        commitment_label=offered[request.POST["choice"]].label,
        actor=request.user,
    )
    messages.success(
        request, f"Bill linked to {offered[request.POST['choice']].short}. Its payments go there on the next run."
    )
    return _back(request, "mapping-bills", integration, integrations)
