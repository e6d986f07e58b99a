"""Where the portal hands over to Pay Now: invoice lists, invoice pages, My account."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import CheckoutAttempt, Payment
from tests.factories import AllocationFactory, InvoiceFactory, PaymentFactory, RetainerInvoiceFactory

from .factories import CheckoutAttemptFactory, CheckoutLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of(client):
    def log_in(contact):
        client.force_login(contact.user)
        return client

    return log_in


def _processing_bank_payment_for(invoice):
    attempt = CheckoutAttemptFactory(payer=invoice.customer, amount=invoice.balance_due, method=Payment.Method.ACH,
                                     gateway="sandbox", status=CheckoutAttempt.Status.PROCESSING)
    CheckoutLineFactory(attempt=attempt, invoice=invoice, amount=invoice.balance_due)


def test_the_invoice_list_lets_a_parent_tick_open_invoices_of_every_branch_to_pay_them_together(
    head_office, client_of
):
    paid = InvoiceFactory(customer=head_office["hq"], number="HQ-PAID", total=Decimal("40.00"),
                          balance_due=Decimal("0.00"), status="paid")
    payment = PaymentFactory(customer=head_office["hq"], amount=Decimal("40.00"), unallocated=Decimal("0.00"))
    AllocationFactory(payment=payment, invoice=paid, amount=Decimal("40.00"))

    page = client_of(head_office["contact"]).get(reverse("portal:invoice-list")).content.decode()

    assert f'action="{reverse("portal:pay-selected")}"' in page
    assert f'name="invoice" value="{head_office["east_invoice"].pk}"' in page
    assert f'name="invoice" value="{head_office["west_invoice"].pk}"' in page
    assert f'name="invoice" value="{paid.pk}"' not in page


def test_invoices_ticked_on_the_list_open_one_payment_for_both_branches(head_office, client_of):
    ticked = [head_office["east_invoice"].pk, head_office["west_invoice"].pk]

    page = client_of(head_office["contact"]).post(reverse("portal:pay-selected"), {"invoice": ticked})

    assert page.status_code == 200
    assert "200.50" in page.content.decode()  # 120.00 + 80.50 in one payment


def test_an_invoice_with_a_bank_payment_processing_says_so_and_cannot_be_ticked_or_paid(head_office, client_of):
    invoice = head_office["east_invoice"]
    _processing_bank_payment_for(invoice)
    client = client_of(head_office["contact"])

    listing = client.get(reverse("portal:invoice-list")).content.decode()
    detail = client.get(reverse("portal:invoice-detail", args=[invoice.pk])).content.decode()

    assert "Payment processing" in listing
    assert f'name="invoice" value="{invoice.pk}"' not in listing
    assert f'name="invoice" value="{head_office["west_invoice"].pk}"' in listing
    assert "Payment processing" in detail
    assert reverse("portal:pay-invoice", args=[invoice.pk]) not in detail
    assert "A bank payment for this invoice is processing" in detail


def test_an_unpaid_retainer_invoice_offers_pay_now(head_office, client_of):
    retainer = RetainerInvoiceFactory(customer=head_office["hq"], total=Decimal("500.00"))

    detail = client_of(head_office["contact"]).get(reverse("portal:retainer-detail", args=[retainer.pk]))

    assert reverse("portal:pay-invoice", args=[retainer.pk]) in detail.content.decode()


def test_my_account_links_to_the_saved_payment_methods(head_office, client_of):
    page = client_of(head_office["contact"]).get(reverse("portal:my-account")).content.decode()

    assert reverse("portal:payment-methods") in page


def test_the_invoice_list_query_count_does_not_grow_with_processing_payments(
    head_office, client_of, django_assert_max_num_queries
):
    client = client_of(head_office["contact"])
    client.get(reverse("portal:invoice-list"))  # warm the session
    for _ in range(5):
        _processing_bank_payment_for(InvoiceFactory(customer=head_office["east"]))

    with django_assert_max_num_queries(12):
        client.get(reverse("portal:invoice-list"))


def test_the_saved_payment_methods_page_sits_under_my_account_in_the_menu(head_office, client_of):
    page = client_of(head_office["contact"]).get(reverse("portal:payment-methods")).content.decode()

    assert f'<a href="{reverse("portal:my-account")}" aria-current="page">' in page
    assert f'<a href="{reverse("portal:payment-list")}" aria-current="page">' not in page
