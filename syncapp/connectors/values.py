"""Tolerant readers of single values from Xero and Procore answers: money, ids, text, dates, flags.

The parsers of both connectors build their typed objects with these, so one field that is absent,
null, of another type than documented, or out of range becomes a safe empty value (None, "",
False) instead of a TypeError/InvalidOperation that would stop a whole run. What to do with an
empty value is the sync engine's business (a payment without an amount is blocked "incomplete").
Readers never raise; a parser that cannot build its object at all (no usable id) raises
`connectors.types.DataError`, and list readers skip that row with a log line.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

TWO_PLACES = Decimal("0.01")
# Our money columns hold 16 digits with 2 places: no real payment, bill or commitment comes near.
# A larger value is a corrupt answer, read as "no amount" rather than failing the database write.
MONEY_LIMIT = Decimal(10) ** 14
MAX_ID = 2**63 - 1  # Procore ids are 64-bit; our columns are BigIntegerField
# "1,250.00": thousands grouped by commas, as a person would type it (neither API documents it,
# but the reading is unambiguous in that exact shape).
_GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


def decimal_value(value: Any) -> Decimal | None:
    """A finite Decimal from a JSON number or numeric string (any precision), else None."""
    if isinstance(value, bool) or value is None:  # bool is an int to Python, never a number here
        return None
    if isinstance(value, str):
        value = value.strip()
        if _GROUPED.match(value):
            value = value.replace(",", "")
    elif not isinstance(value, int | float | Decimal):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) >= MONEY_LIMIT:
        return None
    return number


def money(value: Any) -> Decimal | None:
    """Money as Decimal with two places (half up), from "1250.5", 1250.5, 1250 or "1,250.00";
    None when absent or unreadable ("abc", NaN, infinite, absurdly large)."""
    number = decimal_value(value)
    if number is None:
        return None
    rounded = number.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    return rounded if abs(rounded) < MONEY_LIMIT else None


def integer_id(value: Any) -> int | None:
    """A positive 64-bit id from an integer, an integral number (Procore's commitment show types
    its id as "number") or a string of digits; None otherwise (bool, 1.5, "12a", dict...)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isascii() or not value.isdigit():
            return None
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float | Decimal):
        try:
            if value != value or value % 1:  # NaN, or a fraction
                return None
            number = int(value)
        except (OverflowError, InvalidOperation, ValueError):
            return None
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def text(value: Any) -> str:
    """A string field: strings as they are, numbers written out, enum members by value; anything
    else (an object, a list, a bool where text belongs) is no value at all."""
    if isinstance(value, str):
        return value
    if isinstance(value, enum.Enum):
        return text(value.value)
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return str(value) if value == value and abs(value) != float("inf") else ""
    return ""


def flag(value: Any, *, default: bool) -> bool:
    """A JSON boolean; anything else (absent, null, "yes", 1) is the documented default."""
    return value if isinstance(value, bool) else default


def iso_date(value: Any) -> dt.date | None:
    """A calendar date from "YYYY-MM-DD" (a time part after it is ignored: no timezone shift)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def mapping(value: Any) -> dict:
    """A nested object, or an empty one when the field is absent, null or not an object."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list:
    """A nested array, or an empty one when the field is absent, null or not an array."""
    return value if isinstance(value, list) else []
