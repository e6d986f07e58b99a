"""One INSERT for a page of new rows, without building model instances.

Why not bulk_create here: for a first sync of 30,000 records, building 30,000 model instances
and letting the compiler prepare every column of every row took about a third of the run
(profiled: Model.__init__ plus 570,000 prepare_value calls). On PostgreSQL the page goes in as
one `INSERT … SELECT … FROM json_to_recordset(%s)` with the columns read from the model's own
fields, so a field added to the model later is filled with its default like bulk_create would.

Why one JSON parameter and not one array per column: Django's psycopg cursor binds on the
client, and quoting twenty arrays of 200 values element by element in Python was a quarter of
the first sync's CPU (profiled, 2026-11-25); `json.dumps` of the page is done in C and the
string is escaped once by libpq. Elsewhere (SQLite in `make run`) it is plain bulk_create.
"""

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, models
from django.utils import timezone

_PASS_THROUGH = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.DateTimeField,
    models.ForeignKey,
    models.JSONField,
)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot go into a bulk insert")


def insert_rows(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    unique_field: str | None = None,
    update_fields: Sequence[str] = (),
) -> None:
    """Insert `rows` (field attname → value, the same names in every row); fields left out get
    their default. With `unique_field`, a row whose value is already taken updates `update_fields`."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        conflict = (
            dict(update_conflicts=True, unique_fields=[unique_field], update_fields=list(update_fields))
            if unique_field
            else {}
        )
        model._default_manager.bulk_create([model(**row) for row in rows], **conflict)
        return
    quote = connection.ops.quote_name
    now = timezone.now()
    given = rows[0].keys()
    columns, expressions, record_columns, params = [], [], [], []
    prepared = {
        field.attname: field
        for field in model._meta.concrete_fields
        if field.attname in given and not isinstance(field, _PASS_THROUGH)
    }
    if prepared:  # a field whose Python value is not its database value (none in the sync today)
        rows = [
            {k: (prepared[k].get_db_prep_save(v, connection) if k in prepared else v) for k, v in row.items()}
            for row in rows
        ]
    for field in model._meta.concrete_fields:
        if field.primary_key and field.attname not in given:
            continue
        cast = field.cast_db_type(connection)
        columns.append(quote(field.column))
        if field.attname in given:
            # A JSON null is SQL NULL, a JSON object in a jsonb column is kept as it is.
            record_columns.append(f"{quote(field.attname)} {cast}")
            expressions.append(f"r.{quote(field.attname)}")
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        if isinstance(field, models.JSONField):
            params.append(json.dumps(value))
            expressions.append("%s::jsonb")
        else:
            params.append(field.get_db_prep_save(value, connection))
            expressions.append(f"%s::{cast}")
    params.append(json.dumps(rows, default=_json_value, separators=(",", ":")))  # FROM follows SELECT
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM json_to_recordset(%s::json) AS r({', '.join(record_columns)})"
    )
    if unique_field:
        target = quote(model._meta.get_field(unique_field).column)
        assignments = ", ".join(
            f"{quote(model._meta.get_field(f).column)} = EXCLUDED.{quote(model._meta.get_field(f).column)}"
            for f in update_fields
        )
        sql += f" ON CONFLICT ({target}) DO UPDATE SET {assignments}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
