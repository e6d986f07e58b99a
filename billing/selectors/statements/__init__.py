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

- `kinds`: the catalogue of movements (`MOVEMENTS`), which drives everything below, and `LineKind`;
- `results`: the lines, per-account subtotals (and the per-account table's columns), sections and statement
  the selectors return;
- `whole`: `statement`, every line of the period (the PDF, the admin), through the ORM;
- `page`: `statement_page`, the figures and a slice of the lines and accounts (the portal page), in SQL
  (`page_sql`) on PostgreSQL;
- `accounts`: many accounts' subtotals for a period at once, and the transfers between them (reports);
- `months`: each account's movements by month, kept in `StatementMonth` for the page's figures.
"""

from .accounts import account_subtotals, transfers_between
from .kinds import MOVEMENTS, LineKind
from .page import StatementPage, statement_page
from .results import (
    AccountColumn,
    AccountSubtotals,
    CustomerStatement,
    Statement,
    StatementLine,
    account_columns,
    combined,
)
from .whole import Person, statement, statement_customers

__all__ = [
    "MOVEMENTS",
    "AccountColumn",
    "AccountSubtotals",
    "CustomerStatement",
    "LineKind",
    "Person",
    "Statement",
    "StatementLine",
    "StatementPage",
    "account_columns",
    "account_subtotals",
    "combined",
    "statement",
    "statement_customers",
    "statement_page",
    "transfers_between",
]
