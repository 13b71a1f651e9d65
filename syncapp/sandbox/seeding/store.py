"""Writes the built world to the database as fast as the database allows.

PostgreSQL: `COPY ... FROM STDIN` (psycopg's C writer), with ids for sequence-keyed tables taken
from the sequence in one query first, so payments can point at their bills without reading
anything back. Django's bulk_create spends most of a 100,000-payment seed turning columns into
arrays for its UNNEST insert; COPY skips that. Other databases (SQLite): bulk_create in batches.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

BATCH_SIZE = 5000


def insert(objects: Sequence[models.Model]) -> None:
    """Insert unsaved instances of one model (their foreign keys saved already)."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor == "postgresql":
        _copy(model, objects)
    else:
        model.objects.bulk_create(objects, batch_size=BATCH_SIZE)


def _copy(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    meta = model._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if isinstance(meta.pk, AutoFieldMixin):
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(objects)],
            )
            for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
                obj.pk = pk
        fields = meta.concrete_fields
        columns = ", ".join(quote(field.column) for field in fields)
        now = timezone.now()
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                copy.write_row([_value(obj, field, now) for field in fields])
    for obj in objects:
        obj._state.adding = False


def _value(obj: models.Model, field: models.Field, now):
    if getattr(field, "auto_now", False) or (getattr(field, "auto_now_add", False) and not getattr(obj, field.attname)):
        setattr(obj, field.attname, now)
    value = getattr(obj, field.attname)
    if field.is_relation and value is None and field.is_cached(obj):
        related = field.get_cached_value(obj)
        value = None if related is None else related.pk
        setattr(obj, field.attname, value)
    if isinstance(field, models.JSONField) and value is not None:
        return json.dumps(value)
    return value
