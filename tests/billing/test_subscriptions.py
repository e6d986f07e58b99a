from datetime import date
from decimal import Decimal

import pytest
import time_machine

from billing.models import Invoice, Subscription
from billing.services import generate_due_subscription_invoices
from billing.services.subscriptions import next_period_start
from billing.tasks import generate_due_subscription_invoices_task
from tests.factories import CustomerFactory, CustomerGroupFactory, ItemFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_a_due_subscription_gets_a_sent_invoice_for_its_period_and_moves_to_the_next_one():
    sub = SubscriptionFactory(
        price=Decimal("49.00"), starts_on=date(2026, 3, 1), next_billing_on=date(2026, 3, 1)
    )

    (invoice,) = generate_due_subscription_invoices(today=date(2026, 3, 1))

    sub.refresh_from_db()
    assert (invoice.status, invoice.total, invoice.billing_period_start) == (
        Invoice.Status.SENT,
        Decimal("49.00"),
        date(2026, 3, 1),
    )
    assert invoice.subscription == sub
    assert sub.next_billing_on == date(2026, 4, 1)
    assert [line.description for line in invoice.lines.all()] == [f"{sub.plan_name}, 1 Mar 2026 – 31 Mar 2026"]


def test_running_the_generation_twice_creates_nothing_twice():
    SubscriptionFactory(starts_on=date(2026, 1, 15), next_billing_on=date(2026, 1, 15))

    first = generate_due_subscription_invoices(today=date(2026, 3, 20))
    second = generate_due_subscription_invoices(today=date(2026, 3, 20))

    assert [i.billing_period_start for i in first] == [
        date(2026, 1, 15),
        date(2026, 2, 15),
        date(2026, 3, 15),
    ]
    assert second == []
    assert Invoice.objects.count() == 3


def test_a_period_already_invoiced_is_skipped_even_if_the_next_billing_date_was_moved_back():
    sub = SubscriptionFactory(starts_on=date(2026, 3, 1), next_billing_on=date(2026, 3, 1))
    generate_due_subscription_invoices(today=date(2026, 3, 1))
    Subscription.objects.filter(pk=sub.pk).update(next_billing_on=date(2026, 3, 1))

    again = generate_due_subscription_invoices(today=date(2026, 3, 1))

    assert again == []
    assert Invoice.objects.count() == 1


def test_an_item_subscription_is_priced_from_the_customers_effective_price_and_discount():
    customer = CustomerFactory(group=CustomerGroupFactory(discount_percent=Decimal("10.00")))
    SubscriptionFactory(
        customer=customer,
        item=ItemFactory(rate=Decimal("33.33")),
        quantity=Decimal("3"),
        starts_on=date(2026, 3, 1),
        next_billing_on=date(2026, 3, 1),
    )

    (invoice,) = generate_due_subscription_invoices(today=date(2026, 3, 1))

    assert invoice.total == Decimal("89.99")  # 99.99 − 10% = 89.991


def test_cancelled_subscriptions_are_not_billed_and_non_renewing_ones_stop_after_their_end():
    SubscriptionFactory(
        status=Subscription.Status.CANCELLED, starts_on=date(2026, 1, 1), next_billing_on=date(2026, 1, 1)
    )
    ending = SubscriptionFactory(
        status=Subscription.Status.NON_RENEWING,
        starts_on=date(2026, 1, 1),
        next_billing_on=date(2026, 1, 1),
        ends_on=date(2026, 2, 28),
    )

    created = generate_due_subscription_invoices(today=date(2026, 6, 1))

    ending.refresh_from_db()
    assert [i.billing_period_start for i in created] == [date(2026, 1, 1), date(2026, 2, 1)]
    assert ending.status == Subscription.Status.CANCELLED


def test_month_ends_keep_the_start_day_where_the_month_has_it():
    sub = SubscriptionFactory.build(starts_on=date(2026, 1, 31))

    assert next_period_start(sub, date(2026, 1, 31)) == date(2026, 2, 28)
    assert next_period_start(sub, date(2026, 2, 28)) == date(2026, 3, 31)


@time_machine.travel("2026-03-02 09:00:00+00:00", tick=False)
def test_the_beat_task_bills_what_is_due_today():
    SubscriptionFactory(starts_on=date(2026, 3, 2), next_billing_on=date(2026, 3, 2))

    assert generate_due_subscription_invoices_task.delay().get() == 1
    assert generate_due_subscription_invoices_task.delay().get() == 0
