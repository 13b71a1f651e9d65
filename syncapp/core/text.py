"""Text cut to the column it is written to, with the length read from the model field itself.

A message, a name Xero or Procore sent, an error: any of them can be longer than the column, and
PostgreSQL refuses a value that is (SQLite would keep it). Cutting here, from the field's own
`max_length`, keeps one number per column: the model's.
"""

from __future__ import annotations

from django.db import models


def fit(model: type[models.Model], field: str, value: str) -> str:
    """`value` cut to the `max_length` of `model.field` (unchanged when the field has none)."""
    limit = model._meta.get_field(field).max_length
    return value[:limit] if limit is not None else value


def fitted(model: type[models.Model], **values) -> dict:
    """The same values, each text one cut to its field's `max_length` (others as they are)."""
    return {name: fit(model, name, value) if isinstance(value, str) else value for name, value in values.items()}
