"""Twenty people press Pay for the same invoice at the same moment: one payment, never over-allocated.

PostgreSQL only (SQLite ignores row locks), real transactions, one thread per request.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from billing.models import Allocation, CheckoutAttempt, Invoice, Payment
from tests.factories import ContactPersonFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_simultaneous_pays_of_one_invoice_make_one_payment(head_office):
    assert connection.vendor == "postgresql"
    invoice = head_office["east_invoice"]
    branch_contact = ContactPersonFactory(customer=head_office["east"])
    users = [head_office["contact"].user] * 10 + [branch_contact.user] * 10
    barrier = threading.Barrier(len(users))
    outcomes, errors = [], []

    def pay(user):
        try:
            client = Client()
            client.force_login(user)
            barrier.wait(timeout=30)
            started = client.post(
                reverse("portal:pay-outstanding"),
                {
                    "currency": "USD",
                    "method": "card",
                    "invoice": [invoice.pk],
                    f"amount_{invoice.pk}": "120.00",
                },
            )
            if started.status_code != 302:
                outcomes.append(("refused at start", started.status_code))
                return
            confirmed = client.post(started["Location"], {"scenario": "card_success"})
            outcomes.append(("confirm", confirmed.status_code))
        except Exception as exc:  # noqa: BLE001 - a thread's failure must reach the assertion, not vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    assert len(outcomes) == 20
    assert Payment.objects.filter(status=Payment.Status.SUCCEEDED).count() == 1
    assert Allocation.objects.aggregate(total=Sum("amount"))["total"] == Decimal("120.00")
    invoice.refresh_from_db()
    assert (invoice.balance_due, invoice.status) == (Decimal("0.00"), Invoice.Status.PAID)
    assert Payment.objects.get().amount == Decimal("120.00")


def test_a_double_click_on_continue_makes_one_checkout_and_one_intent(head_office):
    invoice = head_office["east_invoice"]
    barrier = threading.Barrier(2)
    locations, errors = [], []

    def click():
        try:
            client = Client()
            client.force_login(head_office["contact"].user)
            barrier.wait(timeout=30)
            started = client.post(
                reverse("portal:pay-invoice", kwargs={"invoice_id": invoice.pk}),
                {"currency": "USD", "method": "card", "invoice": [invoice.pk], f"amount_{invoice.pk}": "120.00"},
            )
            locations.append(started["Location"])
        except Exception as exc:  # noqa: BLE001 - a thread's failure must reach the assertion, not vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert len(set(locations)) == 1 and len(locations) == 2
    attempt = CheckoutAttempt.objects.get()
    assert attempt.gateway_intent_id
    assert not Payment.objects.exists()
