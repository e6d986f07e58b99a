"""One INSERT for a page of new rows, without building model instances.

Why not bulk_create here: for a first CRM sync of 30,000 records, building 30,000 model instances
and letting the compiler prepare every column of every row took about a third of the run
(profiled: Model.__init__ plus 570,000 prepare_value calls). On PostgreSQL the page goes in as
one `INSERT … SELECT … FROM json_to_recordset(%s)` with the columns read from the model's own
fields, so a field added to the model later is filled with its default like bulk_create would.

Why one JSON parameter and not one array per column: Django's psycopg cursor binds on the
client, and quoting twenty arrays of 200 values element by element in Python was a quarter of
the first sync's CPU (profiled, 2026-11-25); `json.dumps` of the page is done in C and the
string is escaped once by libpq. Elsewhere (SQLite in `make run`) it is plain bulk_create.

Used by `billing.services.customer_pages` (customers and contact persons a page at a time) and by
integrations for their own bookkeeping rows (the CRM sync's links).
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


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` (field attname → value, the same names in every row) and return their primary
    keys, in the order of `rows`. Fields left out get their default (auto_now fields: now).

    Runs no model validation and sends no signal: callers check the values first.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model._default_manager.bulk_create([model(**row) for row in rows])
        return [obj.pk for obj in created]
    quote = connection.ops.quote_name
    now = timezone.now()
    given = rows[0].keys()
    columns, expressions, record_columns, names, params = [], [], [], [], []
    prepared = {
        field.attname: field
        for field in model._meta.concrete_fields
        if field.attname in given and not isinstance(field, _PASS_THROUGH)
    }
    if prepared:  # a field whose Python value is not its database value
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
            names.append(quote(field.attname))
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
    pk = quote(model._meta.pk.column)
    # Inserted in the order of the JSON array (WITH ORDINALITY … ORDER BY), so RETURNING gives the
    # keys in the caller's order, as bulk_create does.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} "
        f"FROM ROWS FROM (json_to_recordset(%s::json) AS ({', '.join(record_columns)})) "
        f"WITH ORDINALITY AS r({', '.join(names)}, _position) ORDER BY r._position "
        f"RETURNING {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
