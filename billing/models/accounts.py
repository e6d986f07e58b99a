"""What each customer's account adds up to, kept by the ledger services.

The portal's home and statement pages of a parent with a thousand branches would otherwise sum the
whole history of every branch on each request. `AccountBalance` holds those sums, one row per
customer: the ledger services recompute the rows of the customers a business action touched, from
the documents themselves, inside that action's transaction (`billing.services.account_totals`), and
`manage.py check_ledger` recomputes every row and reports any that disagree. A customer without a
row has had no ledger activity: every figure is zero.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.money import MoneyField

from .customers import Customer


class AccountBalance(models.Model):
    """The balance-summary figures of one customer (see `billing.selectors.balances.CustomerBalance`)
    and the sum of every movement of its statement, of any date."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="account_balance")
    outstanding_invoices = MoneyField(_("outstanding invoices"), default=0)
    available_credits = MoneyField(_("available credits"), default=0)
    outstanding_retainers = MoneyField(_("outstanding retainer invoices"), default=0)
    available_retainer_payments = MoneyField(_("available retainer payments"), default=0)
    # Debits − credits of every statement line of this account ever (transfers to and from other
    # accounts included): the opening balance of a statement starting after its last movement.
    statement_balance = MoneyField(_("statement balance"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("account balance")

    def __str__(self):
        return f"{self.customer_id}: {self.outstanding_invoices}"


class StatementMonth(models.Model):
    """One account's statement movements of one kind in one calendar month: their sum and how many.

    The statement page reads a thousand accounts' opening balances and period totals from these rows
    instead of every document since the period's start. Kept like `AccountBalance` (the ledger action
    that changes an account recomputes its months, `check_ledger` proves them); `kind` is a statement
    line kind (`billing.selectors.statements.LineKind`), whose side (debit or credit) gives the sign.
    """

    # indexed by the unique constraint, which starts with it
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField(_("month"), help_text=_("The month's first day."))
    kind = models.CharField(_("kind"), max_length=16)
    amount = MoneyField(_("amount"))
    lines = models.PositiveIntegerField(_("lines"))

    class Meta:
        verbose_name = _("statement month")
        # The page reads the months of a few accounts through this index, of a thousand through a range of
        # months (migration 0016 adds that index on PostgreSQL, covering the figures for index-only scans).
        constraints = [
            models.UniqueConstraint(fields=["customer", "month", "kind"], name="statement_month_unique"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.month:%Y-%m} {self.kind}: {self.amount} ({self.lines})"
