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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Statement:
    sql: str
    defaults: tuple[models.Field, ...]  # the fields left out, whose defaults go in as parameters
    prepared: dict[str, models.Field]  # given fields whose Python value is not their database value


_STATEMENTS: dict[tuple[type[models.Model], tuple[str, ...]], _Statement] = {}


def _statement(model: type[models.Model], given: tuple[str, ...]) -> _Statement:
    """The INSERT of `model` for rows naming `given`, built once per process."""
    key = (model, given)
    if key in _STATEMENTS:
        return _STATEMENTS[key]
    quote = connection.ops.quote_name
    columns, expressions, record_columns, names, defaults = [], [], [], [], []
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
        else:
            defaults.append(field)
            expressions.append("%s::jsonb" if isinstance(field, models.JSONField) else f"%s::{cast}")
    # Inserted in the order of the JSON array (WITH ORDINALITY … ORDER BY), so RETURNING gives the
    # keys in the caller's order, as bulk_create does. The JSON parameter comes last (FROM follows SELECT).
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} "
        f"FROM ROWS FROM (json_to_recordset(%s::json) AS ({', '.join(record_columns)})) "
        f"WITH ORDINALITY AS r({', '.join(names)}, _position) ORDER BY r._position "
        f"RETURNING {quote(model._meta.pk.column)}"
    )
    prepared = {
        f.attname: f for f in model._meta.concrete_fields if f.attname in given and not isinstance(f, _PASS_THROUGH)
    }
    _STATEMENTS[key] = statement = _Statement(sql=sql, defaults=tuple(defaults), prepared=prepared)
    return statement


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
    statement = _statement(model, tuple(rows[0]))
    if statement.prepared:  # a field whose Python value is not its database value
        prepared = statement.prepared
        rows = [
            {k: (prepared[k].get_db_prep_save(v, connection) if k in prepared else v) for k, v in row.items()}
            for row in rows
        ]
    now = timezone.now()
    params: list[Any] = []
    for field in statement.defaults:
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        value = now if auto else field.get_default()
        is_json = isinstance(field, models.JSONField)
        params.append(json.dumps(value) if is_json else field.get_db_prep_save(value, connection))
    params.append(json.dumps(rows, default=_json_value, separators=(",", ":")))
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        return [row[0] for row in cursor.fetchall()]
