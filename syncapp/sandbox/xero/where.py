"""Xero's `where` and `order` query parameters, parsed safely into Django filters.

Xero evaluates `where` as a .NET Dynamic LINQ expression. The sandbox understands the subset an
integration uses, with a hand-written tokenizer and recursive-descent parser (never eval):

    Status=="AUTHORISED" AND PaymentType=="ACCPAYPAYMENT"
    Date >= DateTime(2024, 01, 31) && Date < DateTime(2024,02,01,00,00,00)
    Invoice.InvoiceID == Guid("...") OR (Reference != "x" AND IsReconciled == false)
    Name.Contains("Plumbing")   Name.StartsWith("A")   Name.EndsWith("Ltd")

Fields are matched case-insensitively, like Xero. An unknown field, a bad literal or a syntax
error raises QueryError, which the view answers with Xero's 400 QueryParseException.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q


class QueryError(ValueError):
    """The expression cannot be parsed or names something the resource does not have."""


@dataclass(frozen=True)
class Field:
    lookup: str  # the ORM path, e.g. "invoice__invoice_id"
    kind: str  # str | text | uuid | date | datetime | bool | number


# The fields each resource can be filtered and ordered by. `text` fields compare ignoring case.
PAYMENT_FIELDS = {
    "PaymentID": Field("payment_id", "uuid"),
    "PaymentType": Field("payment_type", "str"),
    "Status": Field("status", "str"),
    "Date": Field("date", "date"),
    "Amount": Field("amount", "number"),
    "BankAmount": Field("bank_amount", "number"),
    "Reference": Field("reference", "text"),
    "IsReconciled": Field("is_reconciled", "bool"),
    "BatchPaymentID": Field("batch_payment_id", "uuid"),
    "UpdatedDateUTC": Field("updated_at", "datetime"),
    "Invoice.InvoiceID": Field("invoice__invoice_id", "uuid"),
    "Invoice.InvoiceNumber": Field("invoice__invoice_number", "text"),
    "Invoice.Type": Field("invoice__type", "str"),
    "Invoice.CurrencyCode": Field("invoice__currency_code", "str"),
    "Invoice.Contact.ContactID": Field("invoice__contact__contact_id", "uuid"),
    "Invoice.Contact.Name": Field("invoice__contact__name", "text"),
}

INVOICE_FIELDS = {
    "InvoiceID": Field("invoice_id", "uuid"),
    "InvoiceNumber": Field("invoice_number", "text"),
    "Type": Field("type", "str"),
    "Status": Field("status", "str"),
    "Date": Field("date", "date"),
    "DueDate": Field("due_date", "date"),
    "Reference": Field("reference", "text"),
    "CurrencyCode": Field("currency_code", "str"),
    "Total": Field("total", "number"),
    "SubTotal": Field("sub_total", "number"),
    "AmountDue": Field("amount_due", "number"),
    "AmountPaid": Field("amount_paid", "number"),
    "UpdatedDateUTC": Field("updated_at", "datetime"),
    "Contact.ContactID": Field("contact__contact_id", "uuid"),
    "Contact.Name": Field("contact__name", "text"),
    "Contact.ContactNumber": Field("contact__contact_number", "text"),
}

CONTACT_FIELDS = {
    "ContactID": Field("contact_id", "uuid"),
    "Name": Field("name", "text"),
    "ContactNumber": Field("contact_number", "text"),
    "AccountNumber": Field("account_number", "text"),
    "TaxNumber": Field("tax_number", "text"),
    "EmailAddress": Field("email", "text"),
    "IsSupplier": Field("is_supplier", "bool"),
    "IsCustomer": Field("is_customer", "bool"),
    "ContactStatus": Field("status", "str"),
    "MergedToContactID": Field("merged_to_contact_id", "uuid"),
    "UpdatedDateUTC": Field("updated_at", "datetime"),
}


# --- Tokens -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>==|!=|>=|<=|&&|\|\||=|>|<|!)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
      | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)

_METHODS = {"contains": "contains", "startswith": "startswith", "endswith": "endswith"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QueryError(f"Syntax error at position {position}: '{text[position:position + 10]}'")
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind)))
        position = match.end()
    return tokens


# --- Parser -----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, fields: dict[str, Field], type_name: str):
        self.tokens = tokenize(text)
        self.position = 0
        self.fields = {name.lower(): field for name, field in fields.items()}
        self.type_name = type_name

    # Helpers
    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise QueryError("Expression expected")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        if self.peek() is None:
            raise QueryError(f"'{text}' expected at the end")
        token = self.take()
        if token.text != text:
            raise QueryError(f"'{text}' expected, found '{token.text}'")

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        if token is None:
            return False
        if token.kind == "name" and token.text.upper() in words:
            return True
        return token.kind == "op" and token.text == {"AND": "&&", "OR": "||"}[words[0]]

    # Grammar: or := and (OR and)* ; and := unary (AND unary)* ; unary := NOT unary | primary
    def parse(self) -> Q:
        query = self.or_expression()
        if self.peek() is not None:
            raise QueryError(f"Syntax error: unexpected '{self.peek().text}'")
        return query

    def or_expression(self) -> Q:
        query = self.and_expression()
        while self.at_keyword("OR"):
            self.take()
            query = query | self.and_expression()
        return query

    def and_expression(self) -> Q:
        query = self.unary()
        while self.at_keyword("AND"):
            self.take()
            query = query & self.unary()
        return query

    def unary(self) -> Q:
        token = self.peek()
        if token and (token.text == "!" or (token.kind == "name" and token.text.upper() == "NOT")):
            self.take()
            return ~self.unary()
        if token and token.text == "(":
            self.take()
            query = self.or_expression()
            self.expect(")")
            return query
        return self.comparison()

    def comparison(self) -> Q:
        token = self.take()
        if token.kind != "name":
            raise QueryError(f"Field name expected, found '{token.text}'")
        name, _, method = token.text.rpartition(".")
        next_token = self.peek()
        if name and method.lower() in _METHODS and next_token is not None and next_token.text == "(":
            field = self.field(name)
            self.expect("(")
            value = self.literal()
            self.expect(")")
            if not isinstance(value, str):
                raise QueryError(f"{method} needs a string argument")
            return Q(**{f"{field.lookup}__i{_METHODS[method.lower()]}": value})
        field = self.field(token.text)
        operator = self.take()
        if operator.kind != "op" or operator.text not in {"==", "=", "!=", ">", "<", ">=", "<="}:
            raise QueryError(f"Operator expected after '{token.text}', found '{operator.text}'")
        value = coerce(field, self.literal(), token.text)
        return _compare(field, operator.text, value)

    def field(self, name: str) -> Field:
        field = self.fields.get(name.lower())
        if field is None:
            raise QueryError(f"No property or field '{name}' exists in type '{self.type_name}'")
        return field

    def literal(self) -> Any:
        token = self.take()
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return Decimal(token.text)
        if token.kind == "name":
            word = token.text.lower()
            if word in ("true", "false"):
                return word == "true"
            if word == "null":
                return None
            if word == "guid":
                return self.guid()
            if word == "datetime":
                return self.datetime()
        raise QueryError(f"Value expected, found '{token.text}'")

    def guid(self) -> uuid.UUID:
        self.expect("(")
        token = self.take()
        self.expect(")")
        if token.kind != "string":
            raise QueryError("Guid() needs a quoted value")
        try:
            return uuid.UUID(token.text[1:-1])
        except ValueError as error:
            raise QueryError(f"'{token.text[1:-1]}' is not a valid Guid") from error

    def datetime(self) -> dt.datetime:
        self.expect("(")
        parts: list[int] = []
        while True:
            token = self.take()
            if token.kind != "number" or "." in token.text:
                raise QueryError("DateTime() takes whole numbers: DateTime(2024, 01, 31)")
            parts.append(int(token.text))
            separator = self.take()
            if separator.text == ")":
                break
            if separator.text != ",":
                raise QueryError(f"',' or ')' expected in DateTime(), found '{separator.text}'")
        if len(parts) not in (3, 6):
            raise QueryError("DateTime() takes year, month, day and optionally hour, minute, second")
        try:
            return dt.datetime(*parts, tzinfo=dt.UTC)
        except ValueError as error:
            raise QueryError(f"Invalid DateTime: {error}") from error


def _same(value: Any) -> Any:
    return value


# The literal type each field kind accepts, and how it becomes the value compared (a date field
# takes DateTime(...) and compares its date).
_OPERANDS: dict[str, tuple[type, Callable[[Any], Any]]] = {
    "uuid": (uuid.UUID, _same),
    "str": (str, _same),
    "text": (str, _same),
    "bool": (bool, _same),
    "number": (Decimal, _same),
    "date": (dt.datetime, dt.datetime.date),
    "datetime": (dt.datetime, _same),
}


def coerce(field: Field, value: Any, name: str) -> Any:
    """Check a literal fits the field's type, as Dynamic LINQ does, and convert it."""
    if value is None:
        return None
    if field.kind == "uuid" and isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError as error:
            raise QueryError(f"'{value}' is not a valid Guid for '{name}'") from error
    operand, convert = _OPERANDS.get(field.kind, (type(None), _same))
    if isinstance(value, operand):
        return convert(value)
    raise QueryError(f"Operator is incompatible with operand types of '{name}' and {type(value).__name__}")


def _compare(field: Field, operator: str, value: Any) -> Q:
    lookup = field.lookup
    if value is None:
        if operator in ("==", "="):
            return Q(**{f"{lookup}__isnull": True})
        if operator == "!=":
            return Q(**{f"{lookup}__isnull": False})
        raise QueryError("null can only be compared with == or !=")
    if field.kind == "text" and operator in ("==", "=", "!="):
        query = Q(**{f"{lookup}__iexact": value})
        return ~query if operator == "!=" else query
    suffix = {"==": "", "=": "", ">": "__gt", "<": "__lt", ">=": "__gte", "<=": "__lte"}.get(operator)
    if suffix is None:  # !=
        return ~Q(**{lookup: value})
    return Q(**{f"{lookup}{suffix}": value})


def parse_where(text: str, *, fields: dict[str, Field], type_name: str) -> Q:
    """A Q for Xero's `where` text. Raises QueryError on anything it does not understand."""
    if not text.strip():
        return Q()
    try:
        return _Parser(text, fields, type_name).parse()
    except (InvalidOperation, RecursionError) as error:
        raise QueryError("Invalid where clause") from error


def parse_order(text: str, *, fields: dict[str, Field], type_name: str) -> list[str]:
    """ORM order_by() arguments for Xero's `order` text ("UpdatedDateUTC ASC, Date DESC")."""
    by_name = {name.lower(): field for name, field in fields.items()}
    ordering: list[str] = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise QueryError(f"Invalid order clause '{part.strip()}'")
        field = by_name.get(words[0].lower())
        if field is None:
            raise QueryError(f"No property or field '{words[0]}' exists in type '{type_name}'")
        descending = len(words) == 2 and words[1].upper() == "DESC"
        ordering.append(("-" if descending else "") + field.lookup)
    return ordering
