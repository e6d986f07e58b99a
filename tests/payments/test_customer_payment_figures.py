"""What customers see of online payments: Pay Now is never offered for invoices whose bank payment is
processing, and payments are known by our receipt numbers (PAY-…), never by the gateway's ids."""

import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from billing.gateways.sandbox import SandboxGateway
from billing.models import CheckoutAttempt, Payment
from billing.services.online_payments import (
    confirm_checkout,
    refund_online_payment,
    start_checkout,
)
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def _pay(office, scenario, *, invoices, method):
    gateway = SandboxGateway()
    attempt = start_checkout(
        payer=office["hq"],
        allocations={invoice.pk: invoice.balance_due for invoice in invoices},
        currency="USD",
        method=method,
        started_by=office["contact"].user,
        gateway=gateway,
    )
    return confirm_checkout(attempt=attempt, payment_method_id=gateway.create_payment_method(scenario=scenario),
                            gateway=gateway)


@pytest.fixture
def both_processing(head_office, django_capture_on_commit_callbacks):
    """Both branch invoices (all that is outstanding) in one ACH payment that is still processing."""
    with django_capture_on_commit_callbacks(execute=True):
        attempt = _pay(head_office, "ach_settles", invoices=[head_office["east_invoice"], head_office["west_invoice"]],
                       method=Payment.Method.ACH)
    assert attempt.status == CheckoutAttempt.Status.PROCESSING
    return head_office


def _pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_home_offers_no_pay_now_while_every_outstanding_invoice_has_a_bank_payment_processing(
    client, both_processing
):
    client.force_login(both_processing["contact"].user)

    home = client.get(reverse("portal:home")).content.decode()
    pay_page = client.get(reverse("portal:pay-outstanding")).content.decode()

    assert "Nothing is waiting to be paid." in pay_page
    assert "Pay Now" not in home
    assert reverse("portal:pay-outstanding") not in home
    assert '<span class="badge badge-processing" data-processing>Payment processing</span>' in home


def test_home_still_offers_pay_now_for_the_invoices_that_are_not_processing(
    client, head_office, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _pay(head_office, "ach_settles", invoices=[head_office["east_invoice"]], method=Payment.Method.ACH)
    client.force_login(head_office["contact"].user)

    home = client.get(reverse("portal:home")).content.decode()

    assert f'href="{reverse("portal:pay-outstanding")}">Pay Now</a>' in home
    assert "Some invoices have a bank payment processing." in home


def test_an_invoice_page_says_payment_processing_instead_of_a_pay_now_button(client, both_processing):
    invoice = both_processing["east_invoice"]
    client.force_login(both_processing["contact"].user)

    page = client.get(reverse("portal:invoice-detail", args=[invoice.pk])).content.decode()

    actions = page[page.index('<div class="actions">'):page.index("Download PDF")]
    assert "Pay Now" not in actions
    assert "Payment processing" in actions


def test_the_invoice_list_offers_no_pay_selected_when_no_invoice_on_it_can_be_paid(client, both_processing):
    client.force_login(both_processing["contact"].user)

    listing = client.get(reverse("portal:invoice-list")).content.decode()

    assert "Payment processing" in listing
    assert 'name="invoice"' not in listing
    assert "Pay selected" not in listing


@pytest.fixture
def card_payment_refunded_in_part(head_office, django_capture_on_commit_callbacks):
    """A settled card payment of both branch invoices (its reference is the sandbox's intent id) and a
    gateway refund of 20.00 of it (its reference is the gateway's refund id)."""
    with django_capture_on_commit_callbacks(execute=True):
        _pay(head_office, "card_success", invoices=[head_office["east_invoice"], head_office["west_invoice"]],
             method=Payment.Method.CARD)
    payment = Payment.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_online_payment(payment=payment, amount=Decimal("20.00"))
    payment.refresh_from_db()
    assert payment.gateway_payment_id and payment.reference == payment.gateway_payment_id  # as recorded today
    assert refund.reference == refund.gateway_refund_id
    return dict(office=head_office, payment=payment, refund=refund)


def _gateway_ids(case) -> list[str]:
    ids = [case["payment"].gateway_payment_id, case["refund"].gateway_refund_id]
    assert all(ids)
    return ids


def test_customers_see_the_receipt_number_and_never_the_gateways_ids_on_pages_and_pdfs(
    client, card_payment_refunded_in_part
):
    case = card_payment_refunded_in_part
    payment = case["payment"]
    client.force_login(case["office"]["contact"].user)
    today = timezone.localdate()
    pages = {
        "home": client.get(reverse("portal:home")).content.decode(),
        "payments": client.get(reverse("portal:payment-list")).content.decode(),
        "receipt": client.get(reverse("portal:payment-detail", args=[payment.pk])).content.decode(),
        "invoice": client.get(reverse("portal:invoice-detail", args=[case["office"]["east_invoice"].pk])
                              ).content.decode(),
        "statement": client.get(reverse("portal:statement"), {"period": "custom", "start": f"{today:%Y-%m-%d}",
                                                               "end": f"{today:%Y-%m-%d}"}).content.decode(),
        "receipt PDF": _pdf_text(client.get(reverse("portal:payment-pdf", args=[payment.pk]))),
        "invoice PDF": _pdf_text(client.get(reverse("portal:invoice-pdf", args=[case["office"]["east_invoice"].pk]))),
        "statement PDF": _pdf_text(client.get(reverse("portal:statement-pdf"), {
            "period": "custom", "start": f"{today:%Y-%m-%d}", "end": f"{today:%Y-%m-%d}"})),
    }

    for name, text in pages.items():
        for gateway_id in _gateway_ids(case):
            assert gateway_id not in text, name
        assert not re.search(r"\b(pi|re|ch|py)_sbx", text), name
        assert payment.number in text, name


def test_the_statement_selector_words_payments_and_refunds_without_gateway_ids(card_payment_refunded_in_part):
    from billing.selectors import customers_under, statement

    case = card_payment_refunded_in_part
    today = timezone.localdate()

    lines = statement(customers=customers_under(customer_id=case["office"]["hq"].pk), start=today, end=today).lines

    descriptions = " | ".join(line.description for line in lines)
    assert f"Payment {case['payment'].number} by Card" in descriptions
    assert f"Refund of {case['payment'].number}" in descriptions
    for gateway_id in _gateway_ids(case):
        assert gateway_id not in descriptions


def test_staff_still_see_the_gateways_id_in_the_admin(client, card_payment_refunded_in_part):
    payment = card_payment_refunded_in_part["payment"]
    client.force_login(StaffUserFactory(is_superuser=True))

    page = client.get(reverse("admin:billing_payment_change", args=[payment.pk])).content.decode()

    assert payment.gateway_payment_id in page
