"""Raw SQL that runs on PostgreSQL and on SQLite (the `make run` default).

The ledger's hand-written queries select customers with `= ANY(%(ids)s)`, an array parameter
PostgreSQL plans once whatever the number of ids. SQLite has no arrays: there the same condition
reads the ids from a JSON text parameter.
"""

import json

from django.db import connection

ANY_IDS = "= ANY(%(ids)s)"


def for_this_database(sql: str, params: dict) -> tuple[str, dict]:
    """`sql` and `params` as the current database needs them (see the module docstring)."""
    if connection.vendor == "postgresql":
        return sql, params
    return (
        sql.replace(ANY_IDS, "IN (SELECT value FROM json_each(%(ids)s))"),
        params | {"ids": json.dumps(list(params["ids"]))},
    )
