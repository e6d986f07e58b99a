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
