"""Matching a Xero contact to a Procore vendor: by origin_id, by tax number, and by name.

origin_id and tax number matches link; a name match is only a suggestion an Admin confirms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syncapp.connectors.types import ProcoreVendor

# Legal-form words that differ between the two systems for the same firm.
_SUFFIXES = {
    "pty",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "llc",
    "co",
    "corp",
    "corporation",
    "company",
    "plc",
    "the",
}


def normalise_name(name: str) -> str:
    """'Acme & Sons Pty. Ltd.' and 'ACME and Sons' both become 'acme and sons'."""
    text = name.casefold().replace("&", " and ").replace("+", " and ")
    words = re.sub(r"[^\w\s]", " ", text).split()
    while words and words[-1] in _SUFFIXES:
        words.pop()
    while words and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def name_likeness(contact_name: str, vendor_name: str) -> str:
    """How a name suggestion's two names compare, said honestly: "same name" only when they are
    the same but for case and spacing, else "close match: 'A & B' vs 'A and B'"."""
    if " ".join(contact_name.casefold().split()) == " ".join(vendor_name.casefold().split()):
        return "same name"
    return f"close match: '{contact_name}' vs '{vendor_name}'"


def normalise_tax_number(number: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", number).upper()


@dataclass(frozen=True)
class VendorMatch:
    vendor: ProcoreVendor | None
    how: str  # origin_id | tax_number | name_suggestion | ambiguous | none
    candidates: tuple[ProcoreVendor, ...] = ()


class VendorMatcher:
    """Indexes the company's vendors once, then matches contacts in constant time."""

    def __init__(self, vendors: list[ProcoreVendor]):
        self.by_origin: dict[str, ProcoreVendor] = {}
        self.by_tax: dict[str, list[ProcoreVendor]] = {}
        self.by_name: dict[str, list[ProcoreVendor]] = {}
        for vendor in vendors:
            if not vendor.is_active:
                continue
            if vendor.origin_id:
                self.by_origin.setdefault(vendor.origin_id, vendor)
            if vendor.business_id:
                self.by_tax.setdefault(normalise_tax_number(vendor.business_id), []).append(vendor)
            self.by_name.setdefault(normalise_name(vendor.name), []).append(vendor)

    def match(self, *, contact_id: str, name: str, tax_number: str) -> VendorMatch:
        if contact_id in self.by_origin:
            return VendorMatch(self.by_origin[contact_id], "origin_id")
        tax = normalise_tax_number(tax_number)
        if tax:
            found = self.by_tax.get(tax, [])
            if len(found) == 1:
                return VendorMatch(found[0], "tax_number")
            if len(found) > 1:
                return VendorMatch(None, "ambiguous", tuple(found))
        found = self.by_name.get(normalise_name(name), []) if name else []
        if len(found) == 1:
            return VendorMatch(found[0], "name_suggestion")
        if len(found) > 1:
            return VendorMatch(None, "ambiguous", tuple(found))
        return VendorMatch(None, "none")
