"""What the statement selectors return: lines, per-account subtotals, sections and the statement."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal

from billing.money import ZERO

from .kinds import LineKind


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
class AccountSubtotals:
    """One account's row of the per-account table, or the table's total: its balance at the start, each
    kind of movement of the period in a column of its own, and its balance at the end.

    - invoiced: its own invoices; credited: credit notes issued to it;
    - paid: payments received from it; refunded: money paid back to it;
    - transferred_in: other accounts' money (payments, credit notes, retainers) applied to its invoices;
      transferred_out: its money applied to other accounts' invoices (a reversed payment goes back the
      other way). Between two accounts of one statement these cancel in its consolidated list.

    closing_balance = opening_balance + total_debits − total_credits, by construction.
    """

    customer_id: int | None  # None for the total row
    customer_name: str
    currency: str
    opening_balance: Decimal
    invoiced: Decimal = ZERO
    credited: Decimal = ZERO
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    transferred_in: Decimal = ZERO
    transferred_out: Decimal = ZERO

    @classmethod
    def of(
        cls, customer_id, customer_name: str, currency: str, opening_balance: Decimal, by_kind: Mapping[str, Decimal]
    ) -> "AccountSubtotals":
        """From the period's amounts by `LineKind` (kinds without movements may be left out)."""
        columns = {LineKind.SUBTOTALS[kind]: ZERO + amount for kind, amount in by_kind.items()}
        return cls(customer_id, customer_name, currency, ZERO + opening_balance, **columns)

    @classmethod
    def total(cls, accounts: Iterable["AccountSubtotals"], *, currency: str, name: str = "Total") -> "AccountSubtotals":
        """The column sums of `accounts`."""
        accounts = list(accounts)
        sums = {f.name: sum((getattr(a, f.name) for a in accounts), ZERO) for f in fields(cls)[3:]}
        return cls(None, name, currency, **sums)

    @property
    def total_debits(self) -> Decimal:
        return self.invoiced + self.refunded + self.transferred_out

    @property
    def total_credits(self) -> Decimal:
        return self.paid + self.credited + self.transferred_in

    @property
    def closing_balance(self) -> Decimal:
        return self.opening_balance + self.total_debits - self.total_credits


@dataclass(frozen=True)
class AccountColumn:
    """A column of the per-account table between Opening and Closing: its heading and the movements it
    adds up, as `LineKind`s. The statement page shows one kind a column; a narrower page (the PDF) may
    combine kinds in one column (see `combined`). `change` is the column's effect on the balance: a debit
    kind adds, a credit kind takes off, so a row's opening plus its columns' changes is its closing."""

    heading: str
    kinds: tuple[str, ...]

    @property
    def is_credit(self) -> bool:
        """Every kind it holds lowers the balance (shown taken off: "−$40.00")."""
        return not any(kind in LineKind.DEBITS for kind in self.kinds)

    @property
    def fields(self) -> tuple[str, ...]:
        """The `AccountSubtotals` fields it adds up."""
        return tuple(LineKind.SUBTOTALS[kind] for kind in self.kinds)

    def amount(self, subtotals: "AccountSubtotals") -> Decimal:
        """What a one-kind column shows (an amount, never negative): the subtotal of its kind."""
        return sum((getattr(subtotals, name) for name in self.fields), ZERO)

    def change(self, subtotals: "AccountSubtotals") -> Decimal:
        signs = {kind: 1 if kind in LineKind.DEBITS else -1 for kind in self.kinds}
        return sum((getattr(subtotals, LineKind.SUBTOTALS[kind]) * sign for kind, sign in signs.items()), ZERO)


def account_columns(totals: "AccountSubtotals") -> list[AccountColumn]:
    """The per-account table's columns, as the statement page shows them: each kind of movement the period
    has (in `LineKind.COLUMNS` order, headed `LineKind.HEADINGS`); amounts are never negative, so a zero
    total means a column of zeros, left out."""
    return [
        AccountColumn(LineKind.HEADINGS[kind], (kind,))
        for kind in LineKind.COLUMNS
        if getattr(totals, LineKind.SUBTOTALS[kind])
    ]


def combined(columns: list[AccountColumn], kinds: tuple[str, ...], heading: str) -> list[AccountColumn]:
    """`columns` with those of `kinds` made one column `heading`, where the first of them was (no change
    when fewer than two of them are there)."""
    merged = [column for column in columns if set(column.kinds) <= set(kinds)]
    if len(merged) < 2:
        return columns
    kept = tuple(kind for column in merged for kind in column.kinds)
    result = []
    for column in columns:
        if column is merged[0]:
            result.append(AccountColumn(heading, kept))
        elif column not in merged:
            result.append(column)
    return result


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

    @property
    def subtotals(self) -> AccountSubtotals:
        by_kind: dict[str, Decimal] = {}
        for line in self.lines:
            by_kind[line.kind] = by_kind.get(line.kind, ZERO) + line.debit + line.credit
        return AccountSubtotals.of(self.customer_id, self.customer_name, self.currency, self.opening_balance, by_kind)


@dataclass(frozen=True)
class Statement:
    """A statement of accounts from `start` to `end` (both days included).

    For one customer, `lines` are its rows and `sections` holds that one customer. For several
    (a parent with its visible branches), `sections` gives each customer's rows and subtotals
    (ordered by display name) and `lines` is the consolidated list: every section's rows in date
    order with a running consolidated balance, leaving out transfers between two customers of
    the statement (they cancel: `transfers_between_accounts` is their amount). Amounts are in
    `currency` ("" if the customers bill in different currencies, which a hierarchy never does).

    `accounts` are the sections' per-account subtotals and `totals` their column sums: the totals'
    debits and credits are the consolidated ones plus `transfers_between_accounts` on each side.
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
    transfers_between_accounts: Decimal = ZERO

    @property
    def is_consolidated(self) -> bool:
        return len(self.sections) > 1

    @property
    def accounts(self) -> list[AccountSubtotals]:
        return [section.subtotals for section in self.sections]

    @property
    def totals(self) -> AccountSubtotals:
        return AccountSubtotals.total(self.accounts, currency=self.currency)
