"""One INSERT for a page of new rows, without building model instances.

Why not bulk_create here: for a first sync of 30,000 records, building 30,000 model instances
and letting the compiler prepare every column of every row took about a third of the run
(profiled: Model.__init__ plus 570,000 prepare_value calls). On PostgreSQL the page goes in as
one `INSERT … SELECT unnest(array), …` with the columns read from the model's own fields, so a
field added to the model later is filled with its default like bulk_create would. Elsewhere
(SQLite in `make run`) it is plain bulk_create.
"""

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

_PASS_THROUGH = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.DateTimeField,
    models.ForeignKey,
)


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
    now = timezone.now()
    given = rows[0].keys()
    columns, expressions, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.attname not in given:
            continue
        cast = field.cast_db_type(connection)
        columns.append(connection.ops.quote_name(field.column))
        is_json = isinstance(field, models.JSONField)
        if field.attname in given:
            values = [row[field.attname] for row in rows]
            if is_json:
                params.append([None if v is None else json.dumps(v) for v in values])
                expressions.append("unnest(%s::text[])::jsonb")
            else:
                if isinstance(field, _PASS_THROUGH):
                    params.append(values)  # str / int / bool / aware datetime / None: psycopg takes them as is
                else:
                    params.append([field.get_db_prep_save(v, connection) for v in values])
                expressions.append(f"unnest(%s::{cast}[])")
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        if is_json:
            params.append(json.dumps(value))
            expressions.append("%s::jsonb")
        else:
            params.append(field.get_db_prep_save(value, connection))
            expressions.append(f"%s::{cast}")
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)}"
    )
    if unique_field:
        quote = connection.ops.quote_name
        target = quote(model._meta.get_field(unique_field).column)
        assignments = ", ".join(
            f"{quote(model._meta.get_field(f).column)} = EXCLUDED.{quote(model._meta.get_field(f).column)}"
            for f in update_fields
        )
        sql += f" ON CONFLICT ({target}) DO UPDATE SET {assignments}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
