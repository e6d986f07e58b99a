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
many customers or documents the statement covers.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum

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
from billing.money import ZERO


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
        (Refund.objects.all(), "refunded_on", "amount", LineKind.REFUND, 1),
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


def _document_rows(queryset: QuerySet, kind: str, date_field: str, amount_field: str, sign: int):
    extra = {
        LineKind.INVOICE: ("reference", "due_on"),
        LineKind.CREDIT_NOTE: ("reason", "invoice__number"),
        LineKind.PAYMENT: ("reference", "method"),
        LineKind.REFUND: ("reference", "payment__number", "credit_note__number", "retainer__number"),
    }[kind]
    number_field = "pk" if kind == LineKind.REFUND else "number"
    for values in queryset.values_list("pk", date_field, "customer_id", amount_field, number_field, *extra):
        pk, on, customer_id, amount, number, *more = values
        if kind == LineKind.INVOICE:
            reference = f" (ref. {more[0]})" if more[0] else ""
            description = f"Invoice {number}, due {more[1]:%Y-%m-%d}{reference}"
        elif kind == LineKind.CREDIT_NOTE:
            description = (
                f"Credit note {number}"
                + (f" for {more[1]}" if more[1] else "")
                + (f": {more[0]}" if more[0] else "")
            )
        elif kind == LineKind.PAYMENT:
            method = dict(Payment.Method.choices).get(more[1], more[1])
            description = f"Payment {number} by {method}" + (f" (ref. {more[0]})" if more[0] else "")
        else:
            source = more[1] or more[2] or more[3] or ""
            number = source
            description = f"Refund of {source}" + (f" (ref. {more[0]})" if more[0] else "")
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
