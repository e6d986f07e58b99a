"""The pay pages read like the rest of the portal: its money format, its dates, its layout classes."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from billing.models import CheckoutAttempt
from tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, head_office):
    client.force_login(head_office["contact"].user)
    return client


@pytest.fixture
def big_invoice(head_office):
    return InvoiceFactory(
        customer=head_office["east"],
        total=Decimal("1234.50"),
        issued_on=datetime.date(2026, 10, 6),
        due_on=datetime.date(2026, 11, 5),
    )


def _start(client, invoice, method="card"):
    return client.post(
        reverse("portal:pay-invoice", kwargs={"invoice_id": invoice.pk}),
        {
            "currency": "USD",
            "method": method,
            "invoice": [invoice.pk],
            f"amount_{invoice.pk}": str(invoice.balance_due),
        },
    )


def test_the_pay_page_shows_money_and_dates_as_the_portal_does(logged_in, big_invoice):
    page = logged_in.get(reverse("portal:pay-invoice", kwargs={"invoice_id": big_invoice.pk})).content.decode()

    assert "$1,234.50" in page
    assert "5 Nov 2026" in page and "05 Nov 2026" not in page
    assert "1,234.50 USD" not in page


def test_the_pay_page_uses_the_portal_cards_and_a_scrollable_table(logged_in, big_invoice):
    page = logged_in.get(reverse("portal:pay-invoice", kwargs={"invoice_id": big_invoice.pk})).content.decode()

    assert 'class="page-head"' in page
    assert 'class="table-wrap" role="region" tabindex="0"' in page
    assert '<fieldset class="pay-methods">' in page
    assert re.search(r'<input type="text" name="amount_\d+"[^>]*class="pay-amount"', page)


def test_a_processing_invoice_on_the_pay_page_wears_the_portals_badge(logged_in, head_office, big_invoice):
    with_ach = _start(logged_in, big_invoice, method="ach")
    logged_in.post(with_ach["Location"], {"scenario": "ach_settles"})

    page = logged_in.get(reverse("portal:pay-outstanding")).content.decode()

    assert '<span class="badge badge-processing">Payment processing</span>' in page


def test_checkout_and_confirmation_show_money_with_its_symbol(logged_in, big_invoice):
    checkout_url = _start(logged_in, big_invoice)["Location"]
    checkout = logged_in.get(checkout_url).content.decode()
    done = logged_in.get(logged_in.post(checkout_url, {"scenario": "card_success"})["Location"]).content.decode()

    assert "Pay $1,234.50" in checkout
    assert "We received $1,234.50" in done and "$0.00" in done


def test_a_failed_bank_payment_says_what_was_asked_not_paid_and_offers_to_pay_again(
    logged_in, big_invoice, django_capture_on_commit_callbacks
):
    checkout_url = _start(logged_in, big_invoice, method="ach")["Location"]
    done_url = logged_in.post(checkout_url, {"scenario": "ach_fails"})["Location"]
    token = CheckoutAttempt.objects.get().token
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(reverse("portal:pay-settle", kwargs={"token": token}), {"outcome": "fail"})

    done = logged_in.get(done_url).content.decode()

    assert "Payment failed" in done
    assert ">Paid<" not in done and ">Amount<" in done
    assert reverse("portal:pay-invoice", kwargs={"invoice_id": big_invoice.pk}) in done


def test_the_receipt_email_uses_the_portals_money_and_date_format(
    logged_in, big_invoice, django_capture_on_commit_callbacks
):
    checkout_url = _start(logged_in, big_invoice)["Location"]
    with time_machine.travel(datetime.datetime(2026, 12, 5, 15, tzinfo=datetime.UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            logged_in.post(checkout_url, {"scenario": "card_success"})

    body = mail.outbox[0].body
    assert "Amount: $1,234.50" in body
    assert "$1,234.50, balance now $0.00" in body
    assert "Date: 5 Dec 2026" in body
