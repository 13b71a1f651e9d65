"""What each operation documents: the published response schema, plus a short, explicit allowlist
of what the specs leave out although the real service is known to send it. Every entry names its
source. Nothing here loosens a schema in general: each amendment is for one operation and one
place in its answer.

Used by the undocumented-property tests (tests/sandbox/test_conformance.py, test_xero_schema.py).
"""

import copy
import functools
from typing import Any

from tests.specs import Schema, procore_operation, procore_response_schema, undeclared_properties, xero_document

# --- Xero -----------------------------------------------------------------------------------------

# Fields Xero's answers carry that xero_accounting.yaml's schemas do not declare, by schema name.
# Source for each: the spec's own example responses (e.g. getInvoices, getPayments, getContacts,
# getOrganisations in xero_accounting.yaml 16.1.0) show them on real answers.
_ENVELOPE = {
    "Id": "the envelope of every example response in xero_accounting.yaml",
    "Status": "the envelope of every example response in xero_accounting.yaml",
    "ProviderName": "the envelope of every example response in xero_accounting.yaml",
    "DateTimeUTC": "the envelope of every example response in xero_accounting.yaml",
}
XERO_KNOWN_EXTRAS: dict[str, dict[str, str]] = {
    "Payments": _ENVELOPE,
    "Invoices": _ENVELOPE,
    "Contacts": _ENVELOPE,
    "Organisations": _ENVELOPE,
    "Invoice": {
        "DateString": "getInvoices' example response in xero_accounting.yaml",
        "DueDateString": "getInvoices' example response in xero_accounting.yaml",
    },
}


def _xero_resolver(document: str):
    spec = xero_document(document)

    def resolve(schema: Schema) -> Schema:
        name = None
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = spec["components"]["schemas"][name]
        extras = XERO_KNOWN_EXTRAS.get(name or "", {})
        if extras:
            schema = {**schema, "properties": {**schema.get("properties", {}), **{key: {} for key in extras}}}
        return schema

    return resolve


def xero_undocumented(body: Any, schema: str | Schema, *, document: str = "xero_accounting.yaml") -> list[str]:
    """Paths in a Xero answer that neither the schema (a component name or a schema) nor the
    allowlist above declares."""
    target = {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
    return undeclared_properties(body, target, resolve=_xero_resolver(document))


# --- Procore --------------------------------------------------------------------------------------

# The Procore JSON specs were parsed from Procore's OpenAPI; where Procore composes a schema the
# parse kept only a bare `object`. For those places we say which documented members stand in.
_REQUISITION_CURRENCY = "RestV11RequisitionsGet documents currency_configuration's members"
# An SDK generated from Procore's OpenAPI (weigandconstruction/procore_python_sdk,
# docs/RestV10VendorsGet200ResponseInner.md, "Vendor Extended View") lists these on a vendor.
_VENDOR_EXTENDED_VIEW = "Procore's Vendor Extended View as generated in procore_python_sdk (RestV10VendorsGet)"
VENDOR_READ_ONLY: dict[str, str] = {
    "id": _VENDOR_EXTENDED_VIEW,
    "business_id": _VENDOR_EXTENDED_VIEW,
    "company": _VENDOR_EXTENDED_VIEW,
    "created_at": _VENDOR_EXTENDED_VIEW,
    "updated_at": _VENDOR_EXTENDED_VIEW,
}
COMMITMENT_OPERATIONS = (
    "RestV10WorkOrderContractsGet",
    "RestV10WorkOrderContractsIdGet",
    "RestV10PurchaseOrderContractsGet",
    "RestV10PurchaseOrderContractsIdGet",
)
VENDOR_OPERATIONS = {"RestV10VendorsGet": 200, "RestV10VendorsIdGet": 200, "RestV10VendorsPost": 201}


def _vendor_schema() -> Schema:
    """RestV10VendorsGet/IdGet/Post declare a vendor without members: hold vendor answers to the
    attributes RestV10VendorsPost's request body documents, plus the read-only ones above."""
    written = procore_operation("RestV10VendorsPost")["requestBody"]["schema"]["properties"]["vendor"]
    properties = dict(written["properties"])
    properties.update({key: {} for key in VENDOR_READ_ONLY})
    return {"type": "object", "properties": properties}


def _item(schema: Schema) -> Schema:
    return schema["items"] if schema.get("type") == "array" else schema


@functools.cache
def _procore_documented(operation_id: str, status: int) -> Schema:
    schema = copy.deepcopy(procore_response_schema(operation_id, status))
    if operation_id in VENDOR_OPERATIONS:
        vendor = _vendor_schema()
        return {"type": "array", "items": vendor} if operation_id == "RestV10VendorsGet" else vendor
    if operation_id == "RestV10WorkOrderContractsGet":
        # Its items are declared only as `object`: hold the work-order list to the properties of
        # its documented sibling, the purchase-order list (same commitment list, same fields).
        schema["items"] = copy.deepcopy(procore_response_schema("RestV10PurchaseOrderContractsGet", 200)["items"])
    if operation_id in COMMITMENT_OPERATIONS:
        # currency_configuration is a bare `object` on commitments; its members per _REQUISITION_CURRENCY.
        requisition = procore_response_schema("RestV11RequisitionsGet", 200)["items"]
        _item(schema)["properties"]["currency_configuration"] = copy.deepcopy(
            requisition["properties"]["currency_configuration"]
        )
    return schema


def procore_documented(operation_id: str, status: int = 200) -> Schema:
    """The response schema a Procore answer is held to (a copy: callers may not change it)."""
    return copy.deepcopy(_procore_documented(operation_id, status))


def procore_undocumented(body: Any, operation_id: str, status: int = 200) -> list[str]:
    return undeclared_properties(body, _procore_documented(operation_id, status))
