"""Statement of accounts: what a customer (or a parent and its visible branches) owed over a period.

The running balance is what the customer owes us: invoices and refunds paid out raise it
(debit), payments received and credit notes lower it (credit). A negative balance means the
customer is in credit. Applying money to an invoice of the same customer moves nothing; money
of one customer applied to another's invoice (a parent paying a branch) is a transfer: a debit
on the payer's side and a credit on the branch's side, so every customer's own balance matches
its balance summary and the two sides cancel in a consolidated statement.

Retainer invoices are requests for advance payment, not debts: they never appear as lines. The
payment of a retainer appears as a payment (the customer is in credit until the retainer is
applied), and a refund of an unused retainer as a refund.

Cost: a fixed number of SQL queries (one for the customers, two per kind of movement) however
many customers or documents the statement covers. `statement` builds every line (the PDF);
`statement_page` gives the same figures for a page that shows a slice of the lines and of the
accounts, computed in SQL (two queries, then one per slice).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import F, Q, QuerySet, Sum
from django.utils.dateformat import format as date_format

from billing.models import (
    Allocation,
    AllocationReversal,
    CreditApplication,
    CreditNote,
    Customer,
    Invoice,
    Payment,
    Refund,
    RetainerApplication,
)
from billing.models.ledger import shown_reference
from billing.money import ZERO

from .sql import ANY_IDS, Ids


class LineKind:
    """Values of `StatementLine.kind`, in the order lines of the same day are listed."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    TRANSFER_IN = "transfer_in"  # another customer's payment, credit or retainer paid this one's invoice
    TRANSFER_OUT = "transfer_out"  # this customer's money applied to another customer's invoice
    REFUND = "refund"

    ORDER = (INVOICE, CREDIT_NOTE, PAYMENT, TRANSFER_IN, TRANSFER_OUT, REFUND)
    LABELS = {
        INVOICE: "Invoice",
        CREDIT_NOTE: "Credit note",
        PAYMENT: "Payment received",
        TRANSFER_IN: "Applied from another account",
        TRANSFER_OUT: "Applied to another account",
        REFUND: "Refund",
    }


@dataclass(frozen=True)
class StatementLine:
    """One movement, as a row of the statement table.

    - date: the document date (invoice date, payment date, date applied, refund date).
    - kind: a `LineKind` value; `kind_label` is the human word for it.
    - number: the document number the row is about (INV-…, PAY-…, CN-…).
    - description: one readable sentence ("Payment PAY-00003 from Northwind Networks applied to INV-00012").
    - customer_id / customer_name: whose account the row belongs to (useful in consolidated lists).
    - debit: raises what the customer owes (ZERO when not); credit: lowers it (ZERO when not).
    - balance: the running balance after this row, within the list the row is in (a section or the
      consolidated list).
    """

    date: date
    kind: str
    number: str
    description: str
    customer_id: int
    customer_name: str
    debit: Decimal
    credit: Decimal
    balance: Decimal

    @property
    def kind_label(self) -> str:
        return LineKind.LABELS[self.kind]


@dataclass(frozen=True)
class CustomerStatement:
    """One customer's part of a statement: its own opening balance, rows, subtotals and closing balance.

    closing_balance = opening_balance + total_debits − total_credits.
    """

    customer_id: int
    customer_name: str
    currency: str
    opening_balance: Decimal
    lines: list[StatementLine]
    total_debits: Decimal
    total_credits: Decimal
    closing_balance: Decimal


@dataclass(frozen=True)
class Statement:
    """A statement of accounts from `start` to `end` (both days included).

    For one customer, `lines` are its rows and `sections` holds that one customer. For several
    (a parent with its visible branches), `sections` gives each customer's rows and subtotals
    (ordered by display name) and `lines` is the consolidated list: every section's rows in date
    order with a running consolidated balance, leaving out transfers between two customers of
    the statement (they cancel). Amounts are in `currency` ("" if the customers bill in different
    currencies, which a hierarchy never does).
    """

    start: date
    end: date
    currency: str
    opening_balance: Decimal
    lines: list[StatementLine]
    total_debits: Decimal
    total_credits: Decimal
    closing_balance: Decimal
    sections: list[CustomerStatement] = field(default_factory=list)

    @property
    def is_consolidated(self) -> bool:
        return len(self.sections) > 1


@dataclass
class _Row:
    date: date
    kind: str
    number: str
    description: str
    customer_id: int
    debit: Decimal
    credit: Decimal
    internal: bool = False  # a transfer whose both sides are in the statement
    pk: int = 0


def _money_in_movements(ids: list[int], start: date, end: date, names: dict[int, str]):
    """Yield (opening sums per customer, rows in the period) for every kind of movement."""
    opening: dict[int, Decimal] = defaultdict(lambda: ZERO)
    rows: list[_Row] = []

    # Plain documents: (queryset, date field, amount field, kind, +1 for debit / -1 for credit)
    documents = (
        (
            Invoice.objects.regular().exclude(status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID)),
            "issued_on",
            "total",
            LineKind.INVOICE,
            1,
        ),
        (
            CreditNote.objects.exclude(status=CreditNote.Status.VOID),
            "issued_on",
            "total",
            LineKind.CREDIT_NOTE,
            -1,
        ),
        (
            Payment.objects.filter(status__in=(Payment.Status.SUCCEEDED, Payment.Status.REFUNDED)),
            "paid_on",
            "amount",
            LineKind.PAYMENT,
            -1,
        ),
        (Refund.objects.counted(), "refunded_on", "amount", LineKind.REFUND, 1),
    )
    for queryset, date_field, amount_field, kind, sign in documents:
        queryset = queryset.filter(customer_id__in=ids)
        for customer_id, total in (
            queryset.filter(**{f"{date_field}__lt": start})
            .order_by()
            .values("customer_id")
            .annotate(s=Sum(amount_field))
            .values_list("customer_id", "s")
        ):
            opening[customer_id] += sign * total
        for row in _document_rows(
            queryset.filter(**{f"{date_field}__gte": start, f"{date_field}__lte": end}),
            kind,
            date_field,
            amount_field,
            sign,
        ):
            rows.append(row)

    # Transfers between customers: (queryset, from-customer path, to-customer path, date field, what)
    transfers = (
        (
            Allocation.objects.all(),
            "payment__customer_id",
            "invoice__customer_id",
            "applied_on",
            "payment__number",
            "invoice__number",
            "Payment",
        ),
        (
            CreditApplication.objects.all(),
            "credit_note__customer_id",
            "invoice__customer_id",
            "applied_on",
            "credit_note__number",
            "invoice__number",
            "Credit note",
        ),
        (
            RetainerApplication.objects.all(),
            "retainer__customer_id",
            "invoice__customer_id",
            "applied_on",
            "retainer__number",
            "invoice__number",
            "Retainer",
        ),
        # A reversed allocation sends the money back from the invoice's customer to the payer.
        (
            AllocationReversal.objects.all(),
            "allocation__invoice__customer_id",
            "allocation__payment__customer_id",
            "reversed_on",
            "allocation__payment__number",
            "allocation__invoice__number",
            "Reversed payment",
        ),
    )
    for queryset, src, dst, date_field, source_number, invoice_number, what in transfers:
        touching = Q(**{f"{src}__in": ids}) | Q(**{f"{dst}__in": ids})
        queryset = queryset.exclude(**{src: F(dst)}).filter(touching)
        for giver, taker, total in (
            queryset.filter(**{f"{date_field}__lt": start})
            .order_by()
            .values(src, dst)
            .annotate(s=Sum("amount"))
            .values_list(src, dst, "s")
        ):
            opening[giver] += total
            opening[taker] -= total
        giver_name, taker_name = (
            src.removesuffix("_id") + "__display_name",
            dst.removesuffix("_id") + "__display_name",
        )
        period = queryset.filter(**{f"{date_field}__gte": start, f"{date_field}__lte": end}).values_list(
            "pk", date_field, src, dst, "amount", source_number, invoice_number, giver_name, taker_name
        )
        for pk, on, giver, taker, amount, src_no, inv_no, from_name, to_name in period:
            internal = giver in names and taker in names
            rows.append(
                _Row(
                    on,
                    LineKind.TRANSFER_OUT,
                    src_no,
                    f"{what} {src_no} applied to {inv_no} of {to_name}",
                    giver,
                    amount,
                    ZERO,
                    internal,
                    pk,
                )
            )
            rows.append(
                _Row(
                    on,
                    LineKind.TRANSFER_IN,
                    src_no,
                    f"{what} {src_no} from {from_name} applied to {inv_no}",
                    taker,
                    ZERO,
                    amount,
                    internal,
                    pk,
                )
            )
    return opening, [r for r in rows if r.customer_id in names]


def _due(on: date | str) -> str:
    """A due date as the portal shows dates ("26 Sep 2026"), from a date or its ISO text (raw SQL rows)."""
    return date_format(on if isinstance(on, date) else date.fromisoformat(on), "j M Y")


def _document_rows(queryset: QuerySet, kind: str, date_field: str, amount_field: str, sign: int):
    extra = {
        LineKind.INVOICE: ("reference", "due_on"),
        LineKind.CREDIT_NOTE: ("reason", "invoice__number"),
        LineKind.PAYMENT: ("reference", "method", "gateway", "gateway_payment_id"),
        LineKind.REFUND: ("reference", "payment__number", "credit_note__number", "retainer__number",
                          "gateway_refund_id"),
    }[kind]
    number_field = "pk" if kind == LineKind.REFUND else "number"
    for values in queryset.values_list("pk", date_field, "customer_id", amount_field, number_field, *extra):
        pk, on, customer_id, amount, number, *more = values
        if kind == LineKind.INVOICE:
            reference = f" (ref. {more[0]})" if more[0] else ""
            description = f"Invoice {number}, due {_due(more[1])}{reference}"
        elif kind == LineKind.CREDIT_NOTE:
            description = (
                f"Credit note {number}"
                + (f" for {more[1]}" if more[1] else "")
                + (f": {more[0]}" if more[0] else "")
            )
        elif kind == LineKind.PAYMENT:
            method = dict(Payment.Method.choices).get(more[1], more[1])
            reference = shown_reference(more[0], gateway=more[2], gateway_id=more[3])
            description = f"Payment {number} by {method}" + (f" (ref. {reference})" if reference else "")
        else:
            source = more[1] or more[2] or more[3] or ""
            number = source
            reference = shown_reference(more[0], gateway_id=more[4])
            description = f"Refund of {source}" + (f" (ref. {reference})" if reference else "")
        debit, credit = (amount, ZERO) if sign > 0 else (ZERO, amount)
        yield _Row(on, kind, number, description, customer_id, debit, credit, False, pk)


def _running(
    rows: list[_Row], opening: Decimal, names: dict[int, str]
) -> tuple[list[StatementLine], Decimal, Decimal, Decimal]:
    balance, debits, credits, lines = opening, ZERO, ZERO, []
    for r in rows:
        balance += r.debit - r.credit
        debits += r.debit
        credits += r.credit
        lines.append(
            StatementLine(
                r.date,
                r.kind,
                r.number,
                r.description,
                r.customer_id,
                names[r.customer_id],
                r.debit,
                r.credit,
                balance,
            )
        )
    return lines, debits, credits, balance


def statement(*, customers: QuerySet[Customer], start: date, end: date) -> Statement:
    """The statement of accounts of these customers from `start` to `end` inclusive.

    Opening balance = every movement before `start`; rows in date order (same day: invoices,
    credit notes, payments, transfers, refunds); closing balance = opening + debits − credits.
    With several customers: per-customer sections plus a consolidated list (see `Statement`).
    Reads only; a fixed number of queries whatever the number of customers or documents.
    """
    people = list(
        Customer.objects.filter(pk__in=customers.values("pk"))
        .order_by("display_name", "pk")
        .values_list("pk", "display_name", "currency")
    )
    names = {pk: name for pk, name, _cur in people}
    ids = list(names)
    opening, rows = _money_in_movements(ids, start, end, names)
    rank = {kind: i for i, kind in enumerate(LineKind.ORDER)}
    rows.sort(key=lambda r: (r.date, rank[r.kind], r.number, r.pk))

    sections = []
    for pk, name, currency in people:
        own = [r for r in rows if r.customer_id == pk]
        lines, debits, credits, closing = _running(own, opening[pk], names)
        sections.append(CustomerStatement(pk, name, currency, opening[pk], lines, debits, credits, closing))

    total_opening = sum((opening[pk] for pk in ids), ZERO)
    consolidated = rows if len(ids) == 1 else [r for r in rows if not r.internal]
    lines, debits, credits, closing = _running(consolidated, total_opening, names)
    currencies = {cur for _pk, _name, cur in people}
    return Statement(
        start=start,
        end=end,
        currency=currencies.pop() if len(currencies) == 1 else "",
        opening_balance=total_opening,
        lines=lines,
        total_debits=debits,
        total_credits=credits,
        closing_balance=closing,
        sections=sections,
    )


# --- One page of the statement, computed in SQL -------------------------------------------------
#
# The page shows 100 lines of a consolidated list that may hold tens of thousands, the four totals
# and 25 accounts' subtotals. `statement_page` never builds the whole list, and never reads the
# history before the period: each customer's `AccountBalance.statement_balance` (every movement ever)
# less its movements since the period's start is its opening balance (`_since_sql`, `_totals_sql`);
# a page of lines reads only as many movements of each kind as lie before (or after) it, in statement
# order, with their running balance (`_first_lines_sql`); the accounts of a page read their own
# movements only. Same figures as `statement` (tests/billing/test_statement_page.py compares them
# line by line, page by page).

_KIND_RANK = {kind: i for i, kind in enumerate(LineKind.ORDER)}
# The customers of the statement, sent as one bigint[] literal (`_page_params`): compared as bigint with
# the bigint columns, so the plans are the same whatever the ids (a list of small ints would go as int2[]).
_IN_IDS = "= ANY(%(ids)s::bigint[])"
# Transfer tables, in the order `statement` lists them (a tie-break between two rows that share
# date, kind, number and id): (src, what, table, date column, giver, taker, source number, the rows the
# source number needs, the rows the invoice's number needs), rows as (alias, table, columns, key):
# sd = the money's source, inv = the invoice paid. Whose money and whose invoice are kept on each row
# (`payer_customer_id`, `invoice_customer_id`), so sums and subtotals read the transfer's own row only.
_TRANSFER_TABLES = (
    (
        4,
        "Payment",
        "billing_allocation",
        "applied_on",
        "t.payer_customer_id",
        "t.invoice_customer_id",
        "sd.number",
        (("sd", "billing_payment", "number", "t.payment_id"),),
        (("inv", "billing_invoice", "number", "t.invoice_id"),),
    ),
    (
        5,
        "Credit note",
        "billing_creditapplication",
        "applied_on",
        "t.payer_customer_id",
        "t.invoice_customer_id",
        "sd.number",
        (("sd", "billing_creditnote", "number", "t.credit_note_id"),),
        (("inv", "billing_invoice", "number", "t.invoice_id"),),
    ),
    (
        6,
        "Retainer",
        "billing_retainerapplication",
        "applied_on",
        "t.payer_customer_id",
        "t.invoice_customer_id",
        "sd.number",
        (("sd", "billing_invoice", "number", "t.retainer_id"),),
        (("inv", "billing_invoice", "number", "t.invoice_id"),),
    ),
    # A reversed allocation sends the money back from the invoice's customer to the payer.
    (
        7,
        "Reversed payment",
        "billing_allocationreversal",
        "reversed_on",
        "t.invoice_customer_id",
        "t.payer_customer_id",
        "sd.number",
        (
            ("al", "billing_allocation", "payment_id", "t.allocation_id"),
            ("sd", "billing_payment", "number", "al.payment_id"),
        ),
        (
            ("al", "billing_allocation", "invoice_id", "t.allocation_id"),
            ("inv", "billing_invoice", "number", "al.invoice_id"),
        ),
    ),
)
# A transfer between two customers, spelled as the partial indexes on each table's date column are
# (migration 0011): a customer paying its own invoice (almost every row) moves nothing and is never read.
_IS_TRANSFER = "t.payer_customer_id <> t.invoice_customer_id"


def _row_of(table: str, columns: str, key: str, alias: str) -> str:
    """Join the row `key` of `table` as `alias`, looked up per transfer: OFFSET 0 keeps PostgreSQL from
    hashing every document of a thousand customers to find the few a page's transfers touch."""
    return f"CROSS JOIN LATERAL (SELECT {columns} FROM {table} WHERE id = {key} OFFSET 0) {alias}"


def _lookups(rows) -> str:
    return " ".join(_row_of(t, cols, key, alias) for alias, t, cols, key in rows)


# The same tables with their source's number looked up per transfer (`_row_of`), and the invoice's number
# for a description: (src, what, table, date column, giver, taker, number, number joins, invoice joins).
_TRANSFERS = tuple(
    (src, what, table, on, giver, taker, number, _lookups(numbered), _lookups(invoiced))
    for src, what, table, on, giver, taker, number, numbered, invoiced in _TRANSFER_TABLES
)
# A statement of a few customers (a page of accounts, one branch) finds their transfers from their own
# documents instead (plain joins: PostgreSQL starts from the customers' payments, notes or invoices and
# the foreign-key indexes), not from every customer's transfers of the period. Above this many customers,
# the period's transfers with per-row lookups.
_FEW_CUSTOMERS = 25
_WHAT = {src: what for src, what, *_rest in _TRANSFERS}


_PERIOD = "BETWEEN %(from)s AND %(end)s"
_COLUMNS = "src, pk, d, rank, number, cid, debit, credit, internal"  # of each `_branches` SELECT


def _branches(window: str = _PERIOD, *, few: bool = False, numbers: bool = True) -> list[tuple[int, str, str, str]]:
    """Each kind of movement as (src, SELECT, sort key, internal): the SQL reads it in UNION ALL branches.

    Columns (`_COLUMNS`): src (which table), pk, d (date), rank (LineKind.ORDER index), number, cid
    (whose account), debit, credit, internal (a transfer whose both sides are in `%(ids)s`), for the
    customers `%(ids)s` and dates `d {window}`. The sort key (`{dir}` = ASC or DESC) orders the branch's
    rows as `_ORDER` orders all of them (rank and src are the same for every row of a branch, but for a
    transfer's two sides), spelled so that an index on the date column can serve it; `internal` is the
    SELECT's internal column as a condition of its WHERE. With `few`, a transfer's two sides are two
    branches that start from the customers (`_FEW_CUSTOMERS`). Without `numbers`, a transfer's number is ''
    and its source document is not read (sums need only the row itself: amount, date, both customers).
    """
    parts = [
        (
            0,
            f"""SELECT 0 AS src, i.id AS pk, i.issued_on AS d, 0 AS rank, i.number::text AS number,
                   i.customer_id AS cid, i.total AS debit, 0::numeric AS credit, false AS internal
            FROM billing_invoice i
            WHERE i.customer_id {_IN_IDS} AND NOT i.is_retainer
              AND i.status NOT IN (%(inv_draft)s, %(inv_void)s) AND i.issued_on {window}""",
            'i.issued_on {dir}, i.number COLLATE "C" {dir}, i.id {dir}',
            "false",
        ),
        (
            1,
            f"""SELECT 1, c.id, c.issued_on, 1, c.number::text, c.customer_id, 0::numeric, c.total, false
            FROM billing_creditnote c
            WHERE c.customer_id {_IN_IDS} AND c.status <> %(cn_void)s AND c.issued_on {window}""",
            'c.issued_on {dir}, c.number COLLATE "C" {dir}, c.id {dir}',
            "false",
        ),
        (
            2,
            f"""SELECT 2, p.id, p.paid_on, 2, p.number::text, p.customer_id, 0::numeric, p.amount, false
            FROM billing_payment p
            WHERE p.customer_id {_IN_IDS} AND p.status IN (%(pay_ok)s, %(pay_refunded)s)
              AND p.paid_on {window}""",
            'p.paid_on {dir}, p.number COLLATE "C" {dir}, p.id {dir}',
            "false",
        ),
        # a refund's number is its source's: payment, credit note or retainer
        (
            3,
            f"""SELECT 3, r.id, r.refunded_on, 5,
                   COALESCE(NULLIF(rp.number, ''), NULLIF(rc.number, ''), NULLIF(rr.number, ''), '')::text,
                   r.customer_id, r.amount, 0::numeric, false
            FROM billing_refund r
            LEFT JOIN billing_payment rp ON rp.id = r.payment_id
            LEFT JOIN billing_creditnote rc ON rc.id = r.credit_note_id
            LEFT JOIN billing_invoice rr ON rr.id = r.retainer_id
            WHERE r.customer_id {_IN_IDS} AND r.refunded_on {window}
              AND r.status IN (%(ref_pending)s, %(ref_succeeded)s)""",
            "r.refunded_on {dir}, "
            "COALESCE(NULLIF(rp.number, ''), NULLIF(rc.number, ''), NULLIF(rr.number, ''), '')::text"
            ' COLLATE "C" {dir}, r.id {dir}',
            "false",
        ),
    ]
    out, into = _KIND_RANK[LineKind.TRANSFER_OUT], _KIND_RANK[LineKind.TRANSFER_IN]
    if few:
        for src, _what, table, on, giver, taker, number, numbered, _invoiced in _TRANSFER_TABLES:
            joins = " ".join(f"JOIN {lookup} {alias} ON {alias}.id = {key}" for alias, lookup, _cols, key in numbered)
            number, joins = (number, joins) if numbers else ("''", "")
            for rank, cid, other, debit, credit in (
                (out, giver, taker, "t.amount", "0::numeric"),
                (into, taker, giver, "0::numeric", "t.amount"),
            ):
                parts.append(
                    (
                        src,
                        f"""SELECT {src}, t.id, t.{on}, {rank}, {number}::text, {cid}, {debit}, {credit},
                               {other} {_IN_IDS}
                        FROM {table} t {joins}
                        WHERE {cid} {_IN_IDS} AND t.{on} {window} AND {_IS_TRANSFER}""",
                        f't.{on} {{dir}}, {number}::text COLLATE "C" {{dir}}, t.id {{dir}}',
                        f"{other} {_IN_IDS}",
                    )
                )
        return parts
    for src, _what, table, on, giver, taker, number, joins, _invoiced in _TRANSFERS:
        number, joins = (number, joins) if numbers else ("''", "")
        # One pass over the period's transfers gives both sides: the payer's out, the payee's in.
        parts.append(
            (
                src,
                f"""SELECT {src}, t.id, t.{on}, x.rank, {number}::text, x.cid, x.debit, x.credit,
                       x.other {_IN_IDS}
                FROM {table} t {joins}
                CROSS JOIN LATERAL (
                    VALUES ({out}, {giver}, t.amount, 0::numeric, {taker}),
                           ({into}, {taker}, 0::numeric, t.amount, {giver})
                ) x(rank, cid, debit, credit, other)
                WHERE t.{on} {window} AND {_IS_TRANSFER} AND x.cid {_IN_IDS}""",
                f't.{on} {{dir}}, x.rank {{dir}}, {number}::text COLLATE "C" {{dir}}, t.id {{dir}}',
                f"x.other {_IN_IDS}",
            )
        )
    return parts


def _movements_sql(window: str = _PERIOD, *, few: bool = False, numbers: bool = True) -> str:
    """SQL for every movement of the customers `%(ids)s` dated `window`, one row per line (see `_branches`).

    What only the description needs is read for the page's lines alone (`_details_sql`).
    """
    return "\nUNION ALL\n".join(sql for _src, sql, _key, _internal in _branches(window, few=few, numbers=numbers))


# Documents are read through (customer, date) or date indexes; a transfer costs two lookups (whose
# payment, whose invoice) and a refund three (its source's number): those are cut at the date where
# the documents alone already fill the rows wanted.
_DOCUMENT_SRCS = (0, 1, 2)


def _first_lines_sql(*, descending: bool, few: bool) -> str:
    """SQL for the first `%(first)s` lines of the list in `_ORDER` (`internal` transfers left out), or the
    last `%(first)s` in reverse order when `descending`. Same columns as `_movements_sql`.

    The first n lines of the whole list are among the first n lines of each kind of movement, so each
    kind is cut to its own first n (an index on its date column serves that): the cost follows n, not
    the period. The documents' lines also settle the last date needed: once the documents alone give n
    lines up to some date, nothing dated after it is among the first n, so the transfers and refunds,
    which cost lookups per row (whose payment, whose invoice), are read only up to that date.
    """
    way = "DESC" if descending else "ASC"
    upto = "BETWEEN (SELECT d FROM upto) AND %(end)s" if descending else "BETWEEN %(from)s AND (SELECT d FROM upto)"
    documents = [
        f"({sql} ORDER BY {key.format(dir=way)} LIMIT %(first)s)"
        for src, sql, key, _internal in _branches(few=few)
        if src in _DOCUMENT_SRCS
    ]
    others = [
        f"({sql} AND NOT {internal} ORDER BY {key.format(dir=way)} LIMIT %(first)s)"
        for src, sql, key, internal in _branches(upto, few=few)
        if src not in _DOCUMENT_SRCS
    ]
    return f"""WITH documents AS ({" UNION ALL ".join(documents)}),
        upto AS (SELECT COALESCE((SELECT d FROM documents ORDER BY d {way} OFFSET GREATEST(%(first)s - 1, 0) LIMIT 1),
                                 {"%(from)s" if descending else "%(end)s"}) AS d)
        SELECT * FROM documents UNION ALL {" UNION ALL ".join(others)}"""


def _details_sql() -> str:
    """A LATERAL subquery: (a1, a2) for the description of the line `m` (src, pk, rank)."""
    out = _KIND_RANK[LineKind.TRANSFER_OUT]
    parts = [
        """SELECT i.reference::text AS a1, to_char(i.due_on, 'YYYY-MM-DD') AS a2
           FROM billing_invoice i WHERE m.src = 0 AND i.id = m.pk""",
        """SELECT c.reason::text, (SELECT x.number::text FROM billing_invoice x WHERE x.id = c.invoice_id)
           FROM billing_creditnote c WHERE m.src = 1 AND c.id = m.pk""",
        # Customers never see a gateway's id as a reference (billing.models.ledger.shown_reference).
        """SELECT CASE WHEN p.gateway <> '' OR p.reference = p.gateway_payment_id THEN '' ELSE p.reference END::text,
                  p.method::text FROM billing_payment p WHERE m.src = 2 AND p.id = m.pk""",
        """SELECT CASE WHEN r.reference = r.gateway_refund_id THEN '' ELSE r.reference END::text, NULL::text
           FROM billing_refund r WHERE m.src = 3 AND r.id = m.pk""",
    ]
    for src, _what, table, _on, giver, taker, _number, _numbered, invoiced in _TRANSFERS:
        other = f"CASE WHEN m.rank = {out} THEN {taker} ELSE {giver} END"
        parts.append(
            f"""SELECT inv.number::text, (SELECT o.display_name::text FROM billing_customer o WHERE o.id = {other})
                FROM {table} t {invoiced} WHERE m.src = {src} AND t.id = m.pk"""
        )
    return "\nUNION ALL\n".join(parts)


def _since_sql(*, few: bool) -> str:
    """SQL for (cid, balance, d, debit, credit, internal): each customer's kept statement balance (the sum of
    all its movements ever, `AccountBalance.statement_balance`; none for a customer without a row) and
    every movement of `%(ids)s` dated from `%(from)s` on.

    The opening balance on `%(from)s` is then the balance less the movements since, and the period's
    figures are the movements up to `%(end)s`: one pass over the recent movements instead of the whole
    history before the period (`_opening_sql`). Transfers between two customers of `%(ids)s` are in
    with both sides (they cancel in a sum over the customers).
    """
    return f"""
        SELECT b.customer_id AS cid, b.statement_balance AS balance, NULL::date AS d, 0::numeric AS debit,
               0::numeric AS credit, false AS internal
        FROM billing_accountbalance b WHERE b.customer_id {_IN_IDS}
        UNION ALL
        SELECT cid, 0, d, debit, credit, internal FROM ({_movements_sql(">= %(from)s", few=few, numbers=False)}) m"""


def _totals_sql(*, few: bool) -> str:
    """SQL for one row (balance, since, debits, credits, lines) of the customers `%(ids)s` together: their
    kept statement balances, the sum of their movements from `%(from)s` on (opening = balance − since,
    see `_since_sql`), and the consolidated list's debits, credits and number of lines up to `%(end)s`
    (transfers between two of the customers left out). Each kind of movement is summed where it is read,
    so the rows of the period never travel further than their own scan."""
    period = "d <= %(end)s AND NOT internal"
    parts = [
        f"""SELECT SUM(b.statement_balance) AS balance, 0 AS since, 0 AS debits, 0 AS credits, 0 AS lines
        FROM billing_accountbalance b WHERE b.customer_id {_IN_IDS}"""
    ]
    for _src, sql, _key, _internal in _branches(">= %(from)s", few=few, numbers=False):
        parts.append(
            f"""SELECT 0, SUM(debit - credit), SUM(debit) FILTER (WHERE {period}),
                   SUM(credit) FILTER (WHERE {period}), COUNT(*) FILTER (WHERE {period})
            FROM ({sql}) m({_COLUMNS})"""
        )
    return f"""
        SELECT COALESCE(SUM(balance), 0), COALESCE(SUM(since), 0), COALESCE(SUM(debits), 0),
               COALESCE(SUM(credits), 0), COALESCE(SUM(lines), 0)
        FROM ({" UNION ALL ".join(parts)}) sums"""


def _opening_sql() -> str:
    """SQL for (cid, amount): every movement of the customers `%(ids)s` before `%(from)s`, + owed / − paid.

    Each side of a transfer is read from its own customer alone, kept on the transfer's row; a customer
    paying its own invoice adds and takes the same amount, so it is left out, as `statement` leaves it out.
    """
    before = "< %(from)s"
    in_sel = ANY_IDS  # the form `sql.for_this_database` rewrites for SQLite
    return "\nUNION ALL\n".join(
        (
            f"""SELECT i.customer_id AS cid, i.total AS amount FROM billing_invoice i
                WHERE i.customer_id {in_sel} AND NOT i.is_retainer
                  AND i.status NOT IN (%(inv_draft)s, %(inv_void)s) AND i.issued_on {before}""",
            f"""SELECT c.customer_id, -c.total FROM billing_creditnote c
                WHERE c.customer_id {in_sel} AND c.status <> %(cn_void)s AND c.issued_on {before}""",
            f"""SELECT p.customer_id, -p.amount FROM billing_payment p
                WHERE p.customer_id {in_sel} AND p.status IN (%(pay_ok)s, %(pay_refunded)s) AND p.paid_on {before}""",
            f"""SELECT r.customer_id, r.amount FROM billing_refund r
                WHERE r.customer_id {in_sel} AND r.refunded_on {before}
                  AND r.status IN (%(ref_pending)s, %(ref_succeeded)s)""",
            # transfers out (+) and in (−), between two customers only (the partial indexes' rows); a
            # reversal gives the money back from the invoice's customer to the payer
            *(
                f"""SELECT t.{cid}, {sign}t.amount FROM {table} t
                WHERE t.{cid} {in_sel} AND t.{on} {before} AND {_IS_TRANSFER}"""
                for table, on, giver, taker in (
                    ("billing_allocation", "applied_on", "payer_customer_id", "invoice_customer_id"),
                    ("billing_creditapplication", "applied_on", "payer_customer_id", "invoice_customer_id"),
                    ("billing_retainerapplication", "applied_on", "payer_customer_id", "invoice_customer_id"),
                    ("billing_allocationreversal", "reversed_on", "invoice_customer_id", "payer_customer_id"),
                )
                for cid, sign in ((giver, ""), (taker, "-"))
            ),
        )
    )


def _params(ids: list[int], start: date, end: date) -> dict:
    return {
        "ids": ids,
        "from": start,
        "end": end,
        "inv_draft": Invoice.Status.DRAFT,
        "inv_void": Invoice.Status.VOID,
        "cn_void": CreditNote.Status.VOID,
        "pay_ok": Payment.Status.SUCCEEDED,
        "pay_refunded": Payment.Status.REFUNDED,
        # a failed or canceled gateway refund gave nothing back: it is no movement
        "ref_pending": Refund.Status.PENDING,
        "ref_succeeded": Refund.Status.SUCCEEDED,
    }


def _page_params(ids: list[int], start: date, end: date, **more) -> dict:
    """`_params` with the ids as one array literal for `_IN_IDS`: psycopg adapts a list of a thousand ints
    again at each of the ~15 places a query names it (~7 ms a query), a string it only quotes."""
    return _params(ids, start, end) | {"ids": Ids(ids).array_literal} | more


def _describe(src: int, rank: int, number: str, a1: str, a2: str) -> str:
    """The line's description, worded as `statement` words it."""
    if src == 0:
        return f"Invoice {number}, due {_due(a2)}" + (f" (ref. {a1})" if a1 else "")
    if src == 1:
        return f"Credit note {number}" + (f" for {a2}" if a2 else "") + (f": {a1}" if a1 else "")
    if src == 2:
        method = dict(Payment.Method.choices).get(a2, a2)
        return f"Payment {number} by {method}" + (f" (ref. {a1})" if a1 else "")
    if src == 3:
        return f"Refund of {number}" + (f" (ref. {a1})" if a1 else "")
    if LineKind.ORDER[rank] == LineKind.TRANSFER_OUT:
        return f"{_WHAT[src]} {number} applied to {a1} of {a2}"
    return f"{_WHAT[src]} {number} from {a2} applied to {a1}"


_ORDER = 'd, rank, number COLLATE "C", pk, src'
_ORDER_DESC = 'd DESC, rank DESC, number COLLATE "C" DESC, pk DESC, src DESC'


@dataclass(frozen=True)
class AccountSubtotals:
    """One account's row of the per-account table: its own figures (transfers included)."""

    customer_id: int
    customer_name: str
    currency: str
    opening_balance: Decimal
    total_debits: Decimal
    total_credits: Decimal
    closing_balance: Decimal


class _Lines:
    """The consolidated lines as a sequence a Paginator can slice: each slice is one SQL query."""

    def __init__(self, page: "StatementPage", count: int):
        self._page, self._count = page, count
        self.brought_forward = page.opening_balance  # the balance before the last slice taken

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: slice) -> list[StatementLine]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("statement lines are read a slice at a time")
        offset = max(index.start or 0, 0)
        limit = max((self._count if index.stop is None else index.stop) - offset, 0)
        lines, self.brought_forward = self._page._lines(offset, limit)
        return lines


class _Accounts:
    """The accounts of the statement as a sequence a Paginator can slice: each slice is one SQL query."""

    def __init__(self, page: "StatementPage"):
        self._page = page

    def __len__(self) -> int:
        return len(self._page._people)

    def __getitem__(self, index: slice) -> list[AccountSubtotals]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("statement accounts are read a slice at a time")
        return self._page._subtotals(self._page._people[index])


@dataclass
class StatementPage:
    """What the statement page shows, without building the whole statement (see `statement_page`).

    Same figures as `statement(...)`: opening_balance, total_debits, total_credits, closing_balance
    and currency of the consolidated list; `lines` and `accounts` are sequences a Paginator slices,
    one SQL query per slice (lines with their running balance; per-account subtotals).
    """

    start: date
    end: date
    currency: str
    opening_balance: Decimal
    total_debits: Decimal
    total_credits: Decimal
    closing_balance: Decimal
    line_count: int
    _people: list[tuple[int, str, str]]
    lines: _Lines = field(init=False)
    accounts: _Accounts = field(init=False)

    def __post_init__(self):
        self.lines = _Lines(self, self.line_count)
        self.accounts = _Accounts(self)

    @property
    def account_count(self) -> int:
        return len(self._people)

    @property
    def is_consolidated(self) -> bool:
        return len(self._people) > 1

    @property
    def customer_name(self) -> str:
        """The one account's name (for a statement that is not consolidated)."""
        return self._people[0][1] if self._people else ""

    def _lines(self, offset: int, limit: int) -> tuple[list[StatementLine], Decimal]:
        """Lines offset+1 .. offset+limit with their running balance, read from whichever end is nearer:
        from the start (opening balance + each line) or back from the end (closing balance − the lines
        after each one), so a page costs O(lines before it or after it), never O(period)."""
        names = {pk: name for pk, name, _cur in self._people}
        limit = max(min(limit, self.line_count - offset), 0)
        backward = self.line_count - offset < offset + limit
        order = _ORDER_DESC if backward else _ORDER
        if backward:
            # balance after a line = closing − every later line's movement
            balance = (
                "%(closing)s - SUM(debit - credit) OVER (ORDER BY {order} ROWS UNBOUNDED PRECEDING) + (debit - credit)"
            )
            first, skip = self.line_count - offset, self.line_count - offset - limit
        else:
            balance = "%(opening)s + SUM(debit - credit) OVER (ORDER BY {order} ROWS UNBOUNDED PRECEDING)"
            first, skip = offset + limit, offset
        sql = f"""
            SELECT m.src, m.pk, m.d, m.rank, m.number, m.cid, m.debit, m.credit, x.a1, x.a2, m.balance
            FROM (
                SELECT *, {balance.format(order=order)} AS balance
                FROM ({_first_lines_sql(descending=backward, few=len(names) <= _FEW_CUSTOMERS)}) lines
                ORDER BY {order}
                LIMIT %(limit)s OFFSET %(skip)s
            ) m
            LEFT JOIN LATERAL ({_details_sql()}) x ON true
            ORDER BY {_ORDER.replace("d, rank, number", "m.d, m.rank, m.number").replace("pk, src", "m.pk, m.src")}"""
        params = _page_params(
            list(names),
            self.start,
            self.end,
            opening=self.opening_balance,
            closing=self.closing_balance,
            first=first,
            limit=limit,
            skip=skip,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        lines = [
            StatementLine(
                on,
                LineKind.ORDER[rank],
                number,
                _describe(src, rank, number, a1, a2),
                cid,
                names[cid],
                ZERO + debit,
                ZERO + credit,
                balance,
            )
            for src, _pk, on, rank, number, cid, debit, credit, a1, a2, balance in rows
        ]
        brought_forward = lines[0].balance - lines[0].debit + lines[0].credit if lines else self.opening_balance
        return lines, brought_forward

    def _subtotals(self, people: list[tuple[int, str, str]]) -> list[AccountSubtotals]:
        """Each account's opening (`_since_sql`), debits and credits: what follows the accounts of the slice
        (their own documents; transfers found from them), not every movement of the statement."""
        ids = [pk for pk, _name, _cur in people]
        sql = f"""
            SELECT cid, SUM(balance), SUM(debit - credit),
                   SUM(debit) FILTER (WHERE d <= %(end)s), SUM(credit) FILTER (WHERE d <= %(end)s)
            FROM ({_since_sql(few=len(ids) <= _FEW_CUSTOMERS)}) f
            GROUP BY cid"""
        with connection.cursor() as cursor:
            cursor.execute(sql, _page_params(ids, self.start, self.end))
            figures = {cid: figures for cid, *figures in cursor.fetchall()}
        rows = []
        for pk, name, currency in people:
            balance, since, debits, credits = (ZERO + (f or 0) for f in figures.get(pk, (0, 0, 0, 0)))
            opening = balance - since
            rows.append(AccountSubtotals(pk, name, currency, opening, debits, credits, opening + debits - credits))
        return rows


@dataclass
class _WholeStatementPage(StatementPage):
    """A `StatementPage` sliced from the whole `statement` (every line built in Python): what databases
    other than PostgreSQL get (SQLite under `make run`, a demo ledger), since the SQL above is PostgreSQL's."""

    _full: Statement | None = None

    @classmethod
    def of(cls, full: Statement) -> "_WholeStatementPage":
        return cls(
            start=full.start,
            end=full.end,
            currency=full.currency,
            opening_balance=full.opening_balance,
            total_debits=full.total_debits,
            total_credits=full.total_credits,
            closing_balance=full.closing_balance,
            line_count=len(full.lines),
            _people=[(s.customer_id, s.customer_name, s.currency) for s in full.sections],
            _full=full,
        )

    def _lines(self, offset: int, limit: int) -> tuple[list[StatementLine], Decimal]:
        lines = self._full.lines[offset : offset + limit]
        return lines, lines[0].balance - lines[0].debit + lines[0].credit if lines else self.opening_balance

    def _subtotals(self, people: list[tuple[int, str, str]]) -> list[AccountSubtotals]:
        sections = {s.customer_id: s for s in self._full.sections}
        return [
            AccountSubtotals(pk, name, currency, s.opening_balance, s.total_debits, s.total_credits, s.closing_balance)
            for pk, name, currency in people
            for s in (sections[pk],)
        ]


def statement_page(*, customers: QuerySet[Customer], start: date, end: date) -> StatementPage:
    """The statement of these customers from `start` to `end` for a page that shows a slice of it.

    Same figures as `statement(...)`, but the lines and the per-account subtotals are read one slice
    at a time (`Paginator(page.lines, 100)`, `Paginator(page.accounts, 25)`): two queries here
    (the customers; the consolidated totals as one aggregate) and one per slice, whatever the number
    of customers or documents. Use `statement` when every line is needed (the PDF). On a database other
    than PostgreSQL, the page is sliced from `statement` (`_WholeStatementPage`).
    """
    if connection.vendor != "postgresql":
        return _WholeStatementPage.of(statement(customers=customers, start=start, end=end))
    people = list(
        Customer.objects.filter(pk__in=customers.values("pk"))
        .order_by("display_name", "pk")
        .values_list("pk", "display_name", "currency")
    )
    ids = [pk for pk, _name, _cur in people]
    with connection.cursor() as cursor:
        cursor.execute(_totals_sql(few=len(ids) <= _FEW_CUSTOMERS), _page_params(ids, start, end))
        balance, since, debits, credits, count = cursor.fetchone()
    opening, debits, credits = ZERO + balance - since, ZERO + debits, ZERO + credits
    currencies = {cur for _pk, _name, cur in people}
    return StatementPage(
        start=start,
        end=end,
        currency=currencies.pop() if len(currencies) == 1 else "",
        opening_balance=opening,
        total_debits=debits,
        total_credits=credits,
        closing_balance=opening + debits - credits,
        line_count=int(count),
        _people=people,
    )
