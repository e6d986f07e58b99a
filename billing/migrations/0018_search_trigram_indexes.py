"""Trigram indexes for the back office's search box (billing/admin/search.py), measured at 1,000 branches ×
200,000 invoices by bench/admin_search.py.

Django's `icontains` on PostgreSQL compares UPPER(column::text) LIKE UPPER('%word%'), so each index is on that
expression with `gin_trgm_ops`: a word of three letters or more is found through the index, whatever its
position in the value. The numbers' exact fast path uses their existing unique B-tree indexes.

PostgreSQL only, in plain SQL as in 0010 (the models' state is unchanged; SQLite is `make run`'s demo
database, a few hundred rows). `CREATE EXTENSION pg_trgm` needs a role allowed to create it (pg_trgm is a
trusted extension: the database owner may, from PostgreSQL 13). No data is changed here.
"""

from django.db import migrations

COLUMNS = [
    ("billing_invoice", "number"),
    ("billing_invoice", "reference"),
    ("billing_payment", "number"),
    ("billing_payment", "reference"),
    ("billing_creditnote", "number"),
    ("billing_creditnote", "reason"),
    ("billing_customer", "display_name"),
    ("billing_customer", "company_name"),
    ("billing_customer", "email"),
    ("billing_contactperson", "first_name"),
    ("billing_contactperson", "last_name"),
    ("billing_contactperson", "email"),
]


def index_name(table: str, column: str) -> str:
    return f"{table}_{column}_trgm"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX {index_name(table, column)} ON {table} USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(f"DROP INDEX {index_name(table, column)}")
    # pg_trgm stays: another schema object may use it by now.


class Migration(migrations.Migration):
    dependencies = [("billing", "0017_statement_months")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
