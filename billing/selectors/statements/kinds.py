"""The catalogue of statement movements: every kind of money movement a statement shows, in one table.

`MOVEMENTS` drives everything that reads movements: the whole statement (`whole.statement`, through the
ORM, on any database), the statement page's SQL (`sql.py`, PostgreSQL), the kept monthly sums and the
statement balance of each account (`months.py`), the wording of every line, and `check_ledger`'s check of
the customers kept on each transfer. Adding a kind of movement is one entry in `MOVEMENTS` and its test
(tests/billing/test_statement_catalogue.py proves every entry reads the same in every engine).

A kind is either a document of one customer (`DocumentKind`: an invoice raises what the customer owes, a
payment lowers it) or money of one customer applied to another customer's invoice (`TransferKind`: a
debit on the payer's side and a credit on the other side, so each account's own balance matches its
balance summary and the two sides cancel in a consolidated statement). Each kind names its fields the
ORM way (`"payment__number"`); the SQL is derived from those names (`path_sql`), so a field is spelled
once.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.db import models
from django.db.models import Q
from django.utils.dateformat import format as date_format
from django.utils.translation import get_language

from billing.models import (
    Allocation,
    AllocationReversal,
    CreditApplication,
    CreditNote,
    Invoice,
    Payment,
    Refund,
    RetainerApplication,
)
from billing.models.ledger import shown_reference


class LineKind:
    """Values of `StatementLine.kind`, in the order lines of the same day are listed, with the word for
    each and the per-account subtotal (`AccountSubtotals`) it adds to."""

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
    DEBITS = frozenset((INVOICE, TRANSFER_OUT, REFUND))  # raise what the customer owes; the others lower it
    SUBTOTALS = {
        INVOICE: "invoiced",
        CREDIT_NOTE: "credited",
        PAYMENT: "paid",
        TRANSFER_IN: "transferred_in",
        TRANSFER_OUT: "transferred_out",
        REFUND: "refunded",
    }
    RANK = {kind: i for i, kind in enumerate(ORDER)}
    # The per-account table's columns, in the order a reader adds them up, and what each heading says.
    COLUMNS = (INVOICE, PAYMENT, CREDIT_NOTE, REFUND, TRANSFER_IN, TRANSFER_OUT)
    HEADINGS = {
        INVOICE: "Invoiced",
        PAYMENT: "Paid",
        CREDIT_NOTE: "Credit notes",
        REFUND: "Refunded",
        TRANSFER_IN: "From other accounts",
        TRANSFER_OUT: "To other accounts",
    }


def _due(on: date | str) -> str:
    """A due date as the portal shows dates ("26 Sep 2026"), from a date or its ISO text (raw SQL rows)."""
    return _day(on if isinstance(on, date) else date.fromisoformat(on), get_language())


@lru_cache(maxsize=4096)
def _day(on: date, language: str) -> str:
    # a page's hundred lines fall on a few days: Django's date format costs ~50 µs a call
    return date_format(on, "j M Y")


def _ref(reference: str | None) -> str:
    return f" (ref. {reference})" if reference else ""


@dataclass(frozen=True)
class Where:
    """One condition a row must meet to be a movement, written once for the ORM (`q`) and SQL (`sql`)."""

    field: str
    op: str  # "=", "in" or "not in"
    value: object

    def q(self) -> Q:
        if self.op == "=":
            return Q(**{self.field: self.value})
        within = Q(**{f"{self.field}__in": self.value})
        return within if self.op == "in" else ~within

    def sql(self, model: type[models.Model], alias: str) -> str:
        column = f"{alias}.{model._meta.get_field(self.field).column}"
        if self.op == "=":
            return f"{column} = {_literal(self.value)}"
        values = ", ".join(_literal(v) for v in self.value)
        return f"{column} {'IN' if self.op == 'in' else 'NOT IN'} ({values})"


def _literal(value) -> str:
    """A constant of the catalogue as SQL: booleans and choice values (checked to be plain words)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not re.fullmatch(r"[a-z_]+", str(value)):
        raise ValueError(f"not a choice value: {value!r}")
    return f"'{value}'"


def path_sql(model: type[models.Model], alias: str, path: str) -> str:
    """SQL for the value at the ORM path `path` of the row `alias` of `model`'s table: its column, or a
    primary-key lookup per foreign key along the way (a scalar subquery, run for that row only)."""
    name, _, rest = path.partition("__")
    field = model._meta.get_field(name)
    if not rest:
        return f"{alias}.{field.column}"
    related, inner = field.related_model, f"{alias}_{name}"
    return (
        f"(SELECT {path_sql(related, inner, rest)} FROM {related._meta.db_table} {inner} "
        f"WHERE {inner}.{related._meta.pk.column} = {alias}.{field.column})"
    )


@dataclass(frozen=True)
class Side:
    """Where a movement lands: on the account in `customer` (a field of the row), as a `line_kind` line.
    A transfer has two sides; `other` is then the field of the account on the other side."""

    kind: "DocumentKind | TransferKind"
    line_kind: str
    customer: str
    other: str | None = None

    @property
    def is_debit(self) -> bool:
        return self.line_kind in LineKind.DEBITS


@dataclass(frozen=True)
class DocumentKind:
    """A movement that is one document of one customer (`customer` field), dated `on`, for `amount`.

    - `counted`: the conditions a document meets to be a movement (not a draft, not void...).
    - `numbers`: the line's number is the first non-empty of these fields (a refund takes its source's).
    - `details`: the fields `words(number, *details)` turns into the line's description.
    """

    src: int  # the kind's position in MOVEMENTS: the SQL's tag for it, and the last tie-break of the order
    line_kind: str
    model: type[models.Model]
    on: str
    amount: str
    counted: tuple[Where, ...]
    numbers: tuple[str, ...]
    details: tuple[str, ...]
    words: Callable[..., str]
    customer: str = "customer"

    @property
    def sides(self) -> tuple[Side, ...]:
        return (Side(self, self.line_kind, self.customer),)

    def rows(self):
        """The documents that are movements (every customer, every date)."""
        condition = Q()
        for where in self.counted:
            condition &= where.q()
        return self.model.objects.filter(condition)

    def describe(self, side: Side, number: str, *details) -> str:
        return self.words(number, *details)

    def number_of(self, *numbers) -> str:
        return next((n for n in numbers if n), "")


@dataclass(frozen=True)
class TransferKind:
    """Money of one customer applied to another customer's invoice, on the row `model`, dated `on`.

    `source` and `invoice` are the paths to the document the money came from and the invoice it paid;
    every row keeps both customers (`payer_customer`, `invoice_customer`, checked by `check_ledger`).
    Money goes from `giver` to `taker`: from the payer to the invoice's customer, or back for a reversal.
    A customer paying its own invoice moves nothing: only rows between two customers are movements.
    """

    src: int
    what: str  # the source document as the lines name it ("Payment PAY-00003 applied to …")
    model: type[models.Model]
    on: str
    source: str
    invoice: str
    giver: str = "payer_customer"
    taker: str = "invoice_customer"
    amount: str = "amount"
    payer: str = "payer_customer"
    receiver: str = "invoice_customer"

    @property
    def sides(self) -> tuple[Side, ...]:
        return (
            Side(self, LineKind.TRANSFER_OUT, self.giver, other=self.taker),
            Side(self, LineKind.TRANSFER_IN, self.taker, other=self.giver),
        )

    @property
    def numbers(self) -> tuple[str, ...]:
        return (f"{self.source}__number",)

    @property
    def details(self) -> tuple[str, ...]:
        """What a line's description needs besides the number: the invoice paid (the other account's name
        depends on the side, see `describe`)."""
        return (f"{self.invoice}__number",)

    def rows(self):
        """The rows that move money between two customers (every customer, every date)."""
        return self.model.objects.exclude(**{f"{self.payer}_id": models.F(f"{self.receiver}_id")})

    def between_sql(self, alias: str) -> str:
        """`rows()` as SQL: spelled as the partial indexes on the date columns are (migration 0011)."""
        return f"{alias}.{self.payer}_id <> {alias}.{self.receiver}_id"

    def describe(self, side: Side, number: str, invoice_number: str, other_name: str) -> str:
        if side.line_kind == LineKind.TRANSFER_OUT:
            return f"{self.what} {number} applied to {invoice_number} of {other_name}"
        return f"{self.what} {number} from {other_name} applied to {invoice_number}"

    def number_of(self, number) -> str:
        return number or ""


def _invoice_words(number, reference, due_on) -> str:
    return f"Invoice {number}, due {_due(due_on)}{_ref(reference)}"


def _credit_note_words(number, reason, invoice_number) -> str:
    return f"Credit note {number}" + (f" for {invoice_number}" if invoice_number else "") + (
        f": {reason}" if reason else ""
    )


def _payment_words(number, reference, method, gateway, gateway_payment_id) -> str:
    method = dict(Payment.Method.choices).get(method, method)
    shown = shown_reference(reference, gateway=gateway, gateway_id=gateway_payment_id)
    return f"Payment {number} by {method}{_ref(shown)}"


def _refund_words(number, reference, gateway_refund_id) -> str:
    return f"Refund of {number}{_ref(shown_reference(reference, gateway_id=gateway_refund_id))}"


# The catalogue. An entry's position is its `src`.
MOVEMENTS: tuple[DocumentKind | TransferKind, ...] = (
    DocumentKind(
        src=0,
        line_kind=LineKind.INVOICE,
        model=Invoice,
        on="issued_on",
        amount="total",
        # retainer invoices ask for an advance, they are no debt: their payment is the movement
        counted=(
            Where("is_retainer", "=", False),
            Where("status", "not in", (Invoice.Status.DRAFT, Invoice.Status.VOID)),
        ),
        numbers=("number",),
        details=("reference", "due_on"),
        words=_invoice_words,
    ),
    DocumentKind(
        src=1,
        line_kind=LineKind.CREDIT_NOTE,
        model=CreditNote,
        on="issued_on",
        amount="total",
        counted=(Where("status", "not in", (CreditNote.Status.VOID,)),),
        numbers=("number",),
        details=("reason", "invoice__number"),
        words=_credit_note_words,
    ),
    DocumentKind(
        src=2,
        line_kind=LineKind.PAYMENT,
        model=Payment,
        on="paid_on",
        amount="amount",
        counted=(Where("status", "in", (Payment.Status.SUCCEEDED, Payment.Status.REFUNDED)),),
        numbers=("number",),
        details=("reference", "method", "gateway", "gateway_payment_id"),
        words=_payment_words,
    ),
    DocumentKind(
        src=3,
        line_kind=LineKind.REFUND,
        model=Refund,
        on="refunded_on",
        amount="amount",
        # a failed or canceled gateway refund gave nothing back: it is no movement
        counted=(Where("status", "in", Refund.COUNTED),),
        numbers=("payment__number", "credit_note__number", "retainer__number"),
        details=("reference", "gateway_refund_id"),
        words=_refund_words,
    ),
    TransferKind(src=4, what="Payment", model=Allocation, on="applied_on", source="payment", invoice="invoice"),
    TransferKind(
        src=5, what="Credit note", model=CreditApplication, on="applied_on", source="credit_note", invoice="invoice"
    ),
    TransferKind(
        src=6, what="Retainer", model=RetainerApplication, on="applied_on", source="retainer", invoice="invoice"
    ),
    # A reversed allocation sends the money back from the invoice's customer to the payer.
    TransferKind(
        src=7,
        what="Reversed payment",
        model=AllocationReversal,
        on="reversed_on",
        source="allocation__payment",
        invoice="allocation__invoice",
        giver="invoice_customer",
        taker="payer_customer",
    ),
)
DOCUMENTS = tuple(kind for kind in MOVEMENTS if isinstance(kind, DocumentKind))
TRANSFERS = tuple(kind for kind in MOVEMENTS if isinstance(kind, TransferKind))
SIDES = tuple(side for kind in MOVEMENTS for side in kind.sides)
