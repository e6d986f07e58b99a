from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from billing.demo import HEAD_OFFICE, PRIVATE_BRANCH_CITY, branch_name, demo_banner, load_demo_organisation
from billing.demo_ledger import load_demo_ledger
from billing.models import Allocation, CreditNote, Customer, Invoice, Payment, SalesOrder, Subscription
from billing.selectors import balance_summary, customers_under

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    load_demo_organisation()
    return load_demo_ledger()


def test_the_demo_ledger_is_consistent_and_loading_it_again_changes_nothing(demo):
    again = load_demo_ledger()

    call_command("check_ledger")
    assert demo.created and not again.created
    assert (
        (again.invoices, again.payments)
        == (demo.invoices, demo.payments)
        == (Invoice.objects.count(), Payment.objects.count())
    )


def test_the_demo_has_overdue_partially_paid_and_paid_invoices_retainers_credits_and_subscriptions(demo):
    assert Invoice.objects.overdue().exists()
    assert Invoice.objects.filter(status=Invoice.Status.PARTIALLY_PAID).exists()
    assert Invoice.objects.filter(status=Invoice.Status.PAID).exists()
    assert Invoice.objects.retainers().filter(retainer_unused__gt=0).exists()
    assert CreditNote.objects.exists()
    assert Subscription.objects.filter(invoices__isnull=False).exists()


def test_one_head_office_payment_is_spread_over_three_branch_invoices(demo):
    head = Customer.objects.get(display_name=HEAD_OFFICE)

    spread = [
        p
        for p in Payment.objects.filter(customer=head)
        if len({a.invoice.customer_id for a in p.allocations.all()} - {head.pk}) == 3
    ]

    assert len(spread) == 1
    assert spread[0].amount == Decimal("2000.00")


def test_the_private_branch_is_not_in_the_head_offices_balance(demo):
    head = Customer.objects.get(display_name=HEAD_OFFICE)

    summary = balance_summary(customers=customers_under(customer_id=head.pk))

    assert branch_name(PRIVATE_BRANCH_CITY) not in [row.display_name for row in summary.rows]
    assert summary.total.outstanding_invoices > 0
    assert not Allocation.objects.filter(
        invoice__customer__display_name=branch_name(PRIVATE_BRANCH_CITY), payment__customer=head
    ).exists()


def test_the_head_office_has_sales_orders_and_subscriptions_to_look_at(demo):
    head = Customer.objects.get(display_name=HEAD_OFFICE)

    orders = SalesOrder.objects.filter(customer=head)
    assert orders.exists() and orders.filter(invoices__isnull=False).exists()
    assert Subscription.objects.filter(customer=head, invoices__isnull=False).distinct().count() == 2


@pytest.mark.parametrize(
    "today, closed_on",
    [(date(2026, 12, 3), "Friday 11 December"), (date(2027, 3, 5), "Friday 12 March")],
)
def test_the_demo_banner_is_dated_from_today(today, closed_on):
    assert f"closed on {closed_on} " in demo_banner(today)
