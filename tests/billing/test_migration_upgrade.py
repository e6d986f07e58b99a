"""Upgrading a database that already holds a ledger: the kept account figures get computed."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from billing.models import AccountBalance
from billing.selectors.ledger_check import ledger_problems

BEFORE = [("billing", "0008_statement_date_indexes")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_a_ledger_from_before_account_balances_gets_its_figures_when_migrated():
    """0009 used to compute the rows with code that reads 0011's columns: it failed on any database
    with customers. The rows are now computed last (0012)."""
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = _migrate(BEFORE)
    customer = old.get_model("billing", "Customer").objects.create(
        display_name="Old Co", company_name="Old Co", currency="USD", email="old@co.example")
    old.get_model("billing", "Invoice").objects.create(
        customer=customer, number="OLD-1", status="sent", currency="USD", issued_on="2026-01-05",
        due_on="2026-02-04", subtotal=Decimal("120.40"), total=Decimal("120.40"), balance_due=Decimal("120.40"))
    try:
        _migrate(latest)

        row = AccountBalance.objects.get(customer_id=customer.pk)
        assert (row.outstanding_invoices, row.statement_balance) == (Decimal("120.40"), Decimal("120.40"))
        assert ledger_problems() == []
    finally:
        _migrate(latest)
