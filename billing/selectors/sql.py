"""Raw SQL that runs on PostgreSQL and on SQLite (the `make run` default).

The ledger's hand-written queries select customers with `= ANY(%(ids)s)`, an array parameter
PostgreSQL plans once whatever the number of ids. SQLite has no arrays: there the same condition
reads the ids from a JSON text parameter.
"""

import json

from django.db import connection
from django.db.models import Lookup

ANY_IDS = "= ANY(%(ids)s)"


def for_this_database(sql: str, params: dict) -> tuple[str, dict]:
    """`sql` and `params` as the current database needs them (see the module docstring)."""
    if connection.vendor == "postgresql":
        return sql, params
    return (
        sql.replace(ANY_IDS, "IN (SELECT value FROM json_each(%(ids)s))"),
        params | {"ids": json.dumps(list(params["ids"]))},
    )


class Ids(tuple):
    """A fixed list of ids, with PostgreSQL's text form of it as a bigint[] ('{1,2,3}') built once: sent as
    one parameter, it costs nothing per id in Django or psycopg however many queries reuse it."""

    def __new__(cls, ids):
        return super().__new__(cls, (int(pk) for pk in ids))

    @property
    def array_literal(self) -> str:
        if "_literal" not in self.__dict__:
            self.__dict__["_literal"] = "{" + ",".join(map(str, self)) + "}"
        return self.__dict__["_literal"]


class IdIn(Lookup):
    """`IdIn(F("customer_id"), ids)`: the column is one of `ids`, for `.filter(...)`.

    On PostgreSQL the ids go as ONE array literal (`= ANY('{1,2,…}'::bigint[])`): Django's `__in` sends a
    placeholder per id, and at a thousand ids preparing, sending, parsing and planning them costs ~2 ms a
    query. Elsewhere (SQLite) it is a plain IN list."""

    lookup_name = "id_in"
    prepare_rhs = False

    def get_prep_lookup(self):
        return self.rhs if isinstance(self.rhs, Ids) else Ids(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*lhs_params, *self.rhs]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, self.rhs.array_literal]
