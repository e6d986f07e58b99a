"""The statement page's SQL (PostgreSQL), built from the catalogue of movements (`kinds.MOVEMENTS`).

The page shows 100 lines of a consolidated list that may hold tens of thousands, the statement's figures
and 25 accounts' subtotals, without building the whole list or reading the history before the period:
- figures (`figures_sql`): each account's kept statement balance (every movement ever) less its movements
  since the period's start is its opening balance, and the period's movements are those since its start
  less those since the day after its end. Movements since a date are read from the kept monthly sums
  (`StatementMonth`) for whole months, and from the documents for the part of a month before the first
  whole one;
- lines (`lines_sql`): a page reads only as many movements of each kind as lie before (or after) it, in
  statement order, with their running balance (`first_lines_sql`), and the words of its own lines
  (`details_sql`).
Same figures as the whole statement (tests/billing/test_statement_page.py compares them line by line).
"""

from functools import cache

from django.db import models

from .kinds import DOCUMENTS, MOVEMENTS, TRANSFERS, DocumentKind, LineKind, Side, path_sql
from .months import column, conditions_sql

# The customers of the statement, sent as one bigint[] literal: compared as bigint with the bigint columns,
# so the plans are the same whatever the ids (a list of small ints would go as int2[]). Each time a query
# names it on a table's column, PostgreSQL estimates the condition id by id from the column's statistics
# (~0.3–1 ms of planning for a thousand ids); on a column without statistics (a transfer's sides, `_sides_sql`)
# it costs nothing. So the customers' columns are named where the estimate picks the plan: by date, or by
# customer for a few.
IN_IDS = "= ANY(%(ids)s::bigint[])"
# A statement of a few customers (a page of accounts, one branch) finds their transfers from their own rows
# (the foreign-key indexes on the payer and the invoice's customer); of more, from the period's transfers
# (the partial indexes on the date columns of migration 0011 hold transfers only).
FEW_CUSTOMERS = 25
ORDER = 'd, rank, number COLLATE "C", pk, src'
ORDER_DESC = 'd DESC, rank DESC, number COLLATE "C" DESC, pk DESC, src DESC'
COLUMNS = "src, pk, d, rank, number, cid, debit, credit, internal"  # of each `_branches` SELECT
PERIOD = "BETWEEN %(from)s AND %(end)s"
DETAILS = max(len(kind.details) for kind in DOCUMENTS)  # a1 … aN of `details_sql`


def _table(side: Side) -> str:
    return side.kind.model._meta.db_table


def _number(kind) -> str:
    """The line's number: the first non-empty of the kind's number fields (a refund's is its source's)."""
    paths = [path_sql(kind.model, "t", path) for path in kind.numbers]
    if len(paths) == 1:
        return f"{paths[0]}::text"
    return f"COALESCE({', '.join(f'NULLIF({p}, {chr(39) * 2})' for p in paths)}, '')::text"


def _amounts(side: Side) -> tuple[str, str]:
    amount = column(side, side.kind.amount)
    return (amount, "0::numeric") if side.is_debit else ("0::numeric", amount)


def _branches(window: str, *, few: bool, kinds: frozenset[int]) -> list[tuple[int | str, str, str, str]]:
    """Each kind of movement as (src, SELECT, sort key, internal): the lines' SQL reads it in UNION ALL branches.

    Columns (`COLUMNS`): src (the kind), pk, d (date), rank (LineKind.ORDER index), number, cid (whose
    account), debit, credit, internal (a transfer whose both sides are in `%(ids)s`), for the customers
    `%(ids)s` and dates `d {window}`. The sort key (`{dir}` = ASC or DESC) orders the branch's rows as
    `ORDER` orders all of them, spelled so that an index on the date column can serve it; `internal` is
    the SELECT's internal column as a condition of its WHERE. With `few`, a transfer's two sides are two
    branches that start from the customers (`FEW_CUSTOMERS`); else every transfer is in one part (src
    "transfers", `_transfers_branch`). Only the kinds (`src`) in `kinds` are read."""
    parts = []
    for kind in DOCUMENTS:
        if kind.src not in kinds:
            continue
        (side,) = kind.sides
        on, cid, number = column(side, kind.on), column(side, side.customer), _number(kind)
        debit, credit = _amounts(side)
        where = " AND ".join([f"{cid} {IN_IDS}", *conditions_sql(side), f"{on} {window}"])
        parts.append((
            kind.src,
            f"""SELECT {kind.src} AS src, t.id AS pk, {on} AS d, {LineKind.RANK[side.line_kind]} AS rank,
                   {number} AS number, {cid} AS cid, {debit} AS debit, {credit} AS credit, false AS internal
            FROM {_table(side)} t WHERE {where}""",
            f'{on} {{dir}}, {number} COLLATE "C" {{dir}}, t.id {{dir}}',
            "false",
        ))
    transfers = [kind for kind in TRANSFERS if kind.src in kinds]
    if transfers and not few:
        parts.append(_transfers_branch(window, transfers))
        return parts
    for kind in transfers:
        on, number, between = column(kind.sides[0], kind.on), _number(kind), kind.between_sql("t")
        for side in kind.sides:
            debit, credit = _amounts(side)
            cid, other = column(side, side.customer), column(side, side.other)
            parts.append((
                kind.src,
                f"""SELECT {kind.src}, t.id, {on}, {LineKind.RANK[side.line_kind]}, {number}, {cid}, {debit},
                       {credit}, {other} {IN_IDS}
                FROM {_table(side)} t WHERE {cid} {IN_IDS} AND {on} {window} AND {between}""",
                f'{on} {{dir}}, {number} COLLATE "C" {{dir}}, t.id {{dir}}',
                f"{other} {IN_IDS}",
            ))
    return parts


def _transfers_branch(window: str, transfers) -> tuple[str, str, str, str]:
    """Every kind of transfer of the customers `%(ids)s` dated `d {window}` as one `_branches` part: one pass
    over each table's transfers of those dates gives both sides (the giver's out, the taker's in), and the
    customers are tested once, outside (OFFSET 0 keeps PostgreSQL from copying the test into each table's
    scan, where planning it costs ~0.2 ms each time). A line's number is looked up for its own rows only."""
    tables = " UNION ALL ".join(
        f"""SELECT {kind.src} AS src, t.id AS pk, {column(kind.sides[0], kind.on)} AS d, x.rank, x.cid, x.debit,
               x.credit, x.other
        FROM {_table(kind.sides[0])} t {_sides_sql(kind)[0]}
        WHERE {column(kind.sides[0], kind.on)} {window} AND {kind.between_sql("t")}"""
        for kind in transfers
    )
    numbers = " ".join(
        f"WHEN {kind.src} THEN (SELECT {path_sql(kind.model, 'n', kind.numbers[0])} FROM {_table(kind.sides[0])} n "
        f"WHERE n.id = s.pk)"
        for kind in transfers
    )
    return (
        "transfers",
        f"""SELECT * FROM (
            SELECT s.src, s.pk, s.d, s.rank, (CASE s.src {numbers} END)::text AS number, s.cid, s.debit, s.credit,
                   s.other {IN_IDS} AS internal
            FROM ({tables} OFFSET 0) s WHERE s.cid {IN_IDS}
        ) tr WHERE true""",
        'd {dir}, rank {dir}, number COLLATE "C" {dir}, pk {dir}, src {dir}',
        "internal",
    )


# No document kind in the period: the documents' part reads nothing (`first_lines_sql`).
_NO_DOCUMENTS = f"""SELECT * FROM (VALUES (0, 0::bigint, NULL::date, 0, ''::text, 0::bigint, 0::numeric,
    0::numeric, false)) v({COLUMNS}) WHERE false"""


@cache
def first_lines_sql(*, descending: bool, few: bool, kinds: frozenset[int]) -> str:
    """SQL for the first `%(first)s` lines of the list in `ORDER` (`internal` transfers left out), or the
    last `%(first)s` in reverse order when `descending`. Columns `COLUMNS`.

    The first n lines of the whole list are among the first n lines of each kind of movement, so each
    kind is cut to its own first n (an index on its date column serves that): the cost follows n, not
    the period. The documents' lines also settle the last date needed: once the documents alone give n
    lines up to some date, nothing dated after it is among the first n, so the transfers and refunds,
    which cost lookups per row (whose payment, whose invoice), are read only up to that date.
    """
    way = "DESC" if descending else "ASC"
    upto = "BETWEEN (SELECT d FROM upto) AND %(end)s" if descending else "BETWEEN %(from)s AND (SELECT d FROM upto)"
    plain = {kind.src for kind in DOCUMENTS if kind.numbers == ("number",)}  # their number needs no lookup
    documents = [
        f"({sql} ORDER BY {key.format(dir=way)} LIMIT %(first)s)"
        for src, sql, key, _internal in _branches(PERIOD, few=few, kinds=kinds & plain)
    ]
    others = [
        f"({sql} AND NOT {internal} ORDER BY {key.format(dir=way)} LIMIT %(first)s)"
        for src, sql, key, internal in _branches(upto, few=few, kinds=kinds - plain)
    ]
    return f"""WITH documents AS ({" UNION ALL ".join(documents) or _NO_DOCUMENTS}),
        upto AS (SELECT COALESCE((SELECT d FROM documents ORDER BY d {way} OFFSET GREATEST(%(first)s - 1, 0) LIMIT 1),
                                 {"%(from)s" if descending else "%(end)s"}) AS d)
        SELECT * FROM documents{"".join(f" UNION ALL {part}" for part in others)}"""


def _detail_sql(kind, path: str) -> str:
    model, name = kind.model, path
    while "__" in name:
        first, name = name.split("__", 1)
        model = model._meta.get_field(first).related_model
    value = path_sql(kind.model, "t", path)
    if isinstance(model._meta.get_field(name), models.DateField):
        return f"to_char({value}, 'YYYY-MM-DD')"
    return f"{value}::text"


@cache
def details_sql(kinds: frozenset[int]) -> str:
    """A LATERAL subquery: a1 … a`DETAILS` for the description of the line `m` (src, pk, rank): the kind's
    `details`, and for a transfer the name of the account on the other side (the kinds in `kinds`)."""
    parts = []
    for kind in MOVEMENTS:
        if kind.src not in kinds:
            continue
        if isinstance(kind, DocumentKind):
            values = [_detail_sql(kind, path) for path in kind.details]
        else:
            out, into = kind.sides
            other = f"CASE WHEN m.rank = {LineKind.RANK[out.line_kind]} THEN {column(out, out.other)} ELSE " \
                    f"{column(into, into.other)} END"
            values = [*(_detail_sql(kind, path) for path in kind.details),
                      f"(SELECT o.display_name::text FROM billing_customer o WHERE o.id = {other})"]
        values += ["NULL::text"] * (DETAILS - len(values))
        columns = ", ".join(f"{value} AS a{i}" for i, value in enumerate(values, 1))
        parts.append(f"SELECT {columns} FROM {kind.model._meta.db_table} t WHERE m.src = {kind.src} AND t.id = m.pk")
    return "\nUNION ALL\n".join(parts)


@cache
def lines_sql(*, backward: bool, few: bool, kinds: frozenset[int]) -> str:
    """Lines `%(skip)s` + 1 … + `%(limit)s` of the consolidated list (from the end when `backward`), with
    their running balance: `%(opening)s` plus each line, or `%(closing)s` less the lines after each one.
    `kinds`: the kinds of movement (`src`) the period has lines of, at least one."""
    order = ORDER_DESC if backward else ORDER
    running = f"SUM(debit - credit) OVER (ORDER BY {order} ROWS UNBOUNDED PRECEDING)"
    # the balance after a line: opening + the lines up to it, or closing − the lines after it
    balance = f"%(closing)s - {running} + (debit - credit)" if backward else f"%(opening)s + {running}"
    details = ", ".join(f"x.a{i}" for i in range(1, DETAILS + 1))
    return f"""
        SELECT m.src, m.pk, m.d, m.rank, m.number, m.cid, m.debit, m.credit, m.balance, {details}
        FROM (
            SELECT *, {balance} AS balance
            FROM ({first_lines_sql(descending=backward, few=few, kinds=kinds)}) lines
            ORDER BY {order}
            LIMIT %(limit)s OFFSET %(skip)s
        ) m
        LEFT JOIN LATERAL ({details_sql(kinds)}) x ON true
        ORDER BY m.d, m.rank, m.number COLLATE "C", m.pk, m.src"""


def _sides_sql(kind, alias: str = "t") -> tuple[str, str]:
    """A transfer row's two sides as rows of a LATERAL VALUES `x(rank, cid, debit, credit, other)`: the
    giver's out, the taker's in. Its `x.cid` carries no statistics, so naming the customers' array on it costs
    the planner nothing (on a table's customer column it estimates the condition id by id)."""
    out, into = kind.sides
    giver, taker = column(out, out.customer, alias), column(into, into.customer, alias)
    amount = column(out, kind.amount, alias)
    return (
        f"""CROSS JOIN LATERAL (
                VALUES ({LineKind.RANK[out.line_kind]}, '{out.line_kind}', {giver}, {amount}, 0::numeric, {taker}),
                       ({LineKind.RANK[into.line_kind]}, '{into.line_kind}', {taker}, 0::numeric, {amount}, {giver})
            ) x(rank, kind, cid, debit, credit, other)""",
        "x.cid",
    )


def _scan(start: str, stop: str, part: str, *, per_account: bool) -> list[str]:
    """Every kind's movements of the customers dated from `start` to the day before `stop`, summed by kind
    (and account): rows of `figures_sql`, counted in its since-the-start sums (`part` "a") or its
    since-the-day-after-the-end sums ("b")."""
    parts = []
    for kind in MOVEMENTS:
        side = kind.sides[0]
        on = column(side, kind.on)
        if isinstance(kind, DocumentKind):
            joins, cid, what = "", column(side, side.customer), f"'{side.line_kind}'"
            amount = column(side, kind.amount)
        else:
            (joins, cid), what, amount = _sides_sql(kind), "x.kind", "x.debit + x.credit"
        where = " AND ".join([f"{cid} {IN_IDS}", *conditions_sql(side), f"{on} >= {start}", f"{on} < {stop}"])
        sums = f"SUM({amount}), COUNT(*), 0, 0" if part == "a" else f"0, 0, SUM({amount}), COUNT(*)"
        who = cid if per_account else "NULL::bigint"
        grouped = ", ".join(g for g in (cid if per_account else "", what if joins else "") if g)
        parts.append(
            f"SELECT {who}, {what}, {sums} FROM {_table(side)} t {joins} WHERE {where}"
            + (f" GROUP BY {grouped}" if grouped else "")
        )
    return parts


@cache
def figures_sql(*, per_account: bool, head: bool, tail: bool, with_accounts: bool = False) -> str:
    """SQL for rows (cid, kind, a, a_lines, b, b_lines) of the customers `%(ids)s`: for each kind of line
    (and each account, with `per_account`; else cid is NULL), the sum and number of its movements dated
    from `%(from)s` on (a) and from `%(after)s` (the day after the period) on (b). Rows of kind '' carry the
    kept statement balance in a; without `per_account`, a row of kind 'internal' the transfers between two
    of the customers in the period (amount in a, how many in a_lines). `with_accounts`: the rows of the
    customers `%(account_ids)s` (a page of accounts) by account too, in the same query.

    Whole months come from `StatementMonth` (`%(a_month)s`, `%(b_month)s`: the first month starting on or
    after `from`, after `after`); the days before them (`head`: `from` … `a_month`, `tail`: `after` …
    `b_month`) from the documents."""
    who = "m.customer_id" if per_account else "NULL::bigint"
    by_account = "m.customer_id, " if per_account else ""
    parts = [
        f"""SELECT {who}, '', SUM(m.statement_balance), 0, 0, 0 FROM billing_accountbalance m
        WHERE m.customer_id {IN_IDS}{" GROUP BY m.customer_id" if per_account else ""}""",
        f"""SELECT {who}, m.kind, SUM(m.amount), SUM(m.lines),
               SUM(m.amount) FILTER (WHERE m.month >= %(b_month)s), SUM(m.lines) FILTER (WHERE m.month >= %(b_month)s)
        FROM billing_statementmonth m WHERE m.customer_id {IN_IDS} AND m.month >= %(a_month)s
        GROUP BY {by_account}m.kind""",
    ]
    if head:
        parts += _scan("%(from)s", "%(a_month)s", "a", per_account=per_account)
    if tail:
        parts += _scan("%(after)s", "%(b_month)s", "b", per_account=per_account)
    if not per_account:
        # both customers of a transfer in the statement: read from the transfer rows of the period alone
        transfers = " UNION ALL ".join(
            f"""SELECT {column(out, kind.payer)} AS payer, {column(out, kind.receiver)} AS receiver,
                   {column(out, kind.amount)} AS amount
            FROM {_table(out)} t WHERE {column(out, kind.on)} {PERIOD} AND {kind.between_sql("t")}"""
            for kind in TRANSFERS
            for out in kind.sides[:1]
        )
        # OFFSET 0: the customers are tested once here, not copied into each table's scan (`_transfers_branch`)
        parts.append(
            f"""SELECT NULL::bigint, 'internal', SUM(p.amount), COUNT(*), 0, 0 FROM ({transfers} OFFSET 0) p
            WHERE p.payer {IN_IDS} AND p.receiver {IN_IDS}"""
        )
    if with_accounts:
        parts.append(figures_sql(per_account=True, head=head, tail=tail).replace("%(ids)s", "%(account_ids)s"))
    return "\nUNION ALL\n".join(parts)
