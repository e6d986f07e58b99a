"""Bad input to Pay Now: a clear message, no checkout written, and the gateway never called."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.gateways.sandbox import SandboxGateway
from billing.models import CheckoutAttempt, Invoice, Payment, SandboxObject
from billing.services.online_payments import start_checkout
from tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def _start(office, allocations, **kwargs):
    ask = dict(payer=office["hq"], currency="USD", method=Payment.Method.CARD, gateway=SandboxGateway())
    ask.update(kwargs)
    return start_checkout(allocations=allocations, **ask)


def _refused(office, allocations, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        _start(office, allocations, **kwargs)
    assert not CheckoutAttempt.objects.exists(), "a refused checkout writes nothing"
    assert not SandboxObject.objects.exists(), "a refused checkout never reaches the gateway"
    return refused.value


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-5.00"), Decimal("10.001")])
def test_an_amount_that_is_not_above_zero_in_whole_cents_is_refused(head_office, amount):
    refused = _refused(head_office, {head_office["east_invoice"].pk: amount})

    assert refused.code == "bad_amount"


def test_more_than_the_balance_is_refused_naming_the_balance(head_office):
    refused = _refused(head_office, {head_office["east_invoice"].pk: Decimal("120.01")})

    assert refused.code == "exceeds_invoice"
    assert "120.00 USD" in refused.messages[0]


def test_part_of_an_invoice_that_disallows_partial_payments_is_refused(head_office):
    invoice = InvoiceFactory(customer=head_office["east"], total=Decimal("60.00"), allow_partial_payments=False)

    refused = _refused(head_office, {invoice.pk: Decimal("30.00")})

    assert refused.code == "partial_not_allowed"


def test_part_of_an_invoice_that_allows_it_is_accepted(head_office):
    attempt = _start(head_office, {head_office["east_invoice"].pk: Decimal("20.00")})

    assert attempt.amount == Decimal("20.00")


def test_an_invoice_of_another_company_is_refused_like_a_missing_one(head_office):
    foreign = InvoiceFactory(customer=CustomerFactory())

    refused = _refused(head_office, {foreign.pk: Decimal("100.00")})
    missing = _refused(head_office, {999999: Decimal("100.00")})

    assert refused.code == missing.code == "not_payable"
    assert refused.messages == missing.messages


def test_a_private_branch_invoice_is_not_payable_by_the_parent(head_office):
    private = CustomerFactory(parent=head_office["hq"], allow_parent_access=False)
    invoice = InvoiceFactory(customer=private)

    assert _refused(head_office, {invoice.pk: Decimal("100.00")}).code == "not_payable"


@pytest.mark.parametrize("status", [Invoice.Status.VOID, Invoice.Status.DRAFT])
def test_a_void_or_draft_invoice_is_refused(head_office, status):
    # A voided invoice owes nothing (check_ledger holds it to that); a draft owes its total but isn't sent.
    balance = Decimal("0.00") if status == Invoice.Status.VOID else Decimal("100.00")
    invoice = InvoiceFactory(customer=head_office["east"], status=status, balance_due=balance)

    assert _refused(head_office, {invoice.pk: Decimal("100.00")}).code == "invoice_not_open"


def test_a_currency_other_than_the_accounts_is_refused(head_office):
    refused = _refused(head_office, {head_office["east_invoice"].pk: Decimal("120.00")}, currency="EUR")

    assert refused.code == "wrong_currency"


def test_ach_is_refused_when_the_customer_may_not_pay_by_bank(head_office):
    head_office["hq"].allow_ach = False
    head_office["hq"].save()

    refused = _refused(head_office, {head_office["east_invoice"].pk: Decimal("120.00")}, method=Payment.Method.ACH)

    assert refused.code == "ach_not_allowed"


def test_nothing_chosen_is_refused(head_office):
    assert _refused(head_office, {}).code == "nothing_to_apply"


# Through the pages: tampered hidden fields


def _post_pay(client, office, data):
    client.force_login(office["contact"].user)
    return client.post(reverse("portal:pay-outstanding"), {"currency": "USD", "method": "card", **data})


def test_a_tampered_hidden_amount_is_refused_with_the_services_message(client, head_office):
    invoice = InvoiceFactory(customer=head_office["east"], total=Decimal("60.00"), allow_partial_payments=False)

    response = _post_pay(client, head_office, {"invoice": [invoice.pk], f"amount_{invoice.pk}": "1.00"})

    assert response.status_code == 400
    assert "must be paid in full: 60.00 USD" in response.content.decode()
    assert not CheckoutAttempt.objects.exists() and not SandboxObject.objects.exists()


def test_a_tampered_invoice_id_is_refused(client, head_office):
    foreign = InvoiceFactory(customer=CustomerFactory())

    response = _post_pay(client, head_office, {"invoice": [foreign.pk], f"amount_{foreign.pk}": "100.00"})

    assert response.status_code == 400
    assert "can&#x27;t be paid from this account" in response.content.decode()
    assert not CheckoutAttempt.objects.exists()


def test_a_tampered_currency_is_refused(client, head_office):
    inv = head_office["east_invoice"]

    response = _post_pay(client, head_office, {"invoice": [inv.pk], f"amount_{inv.pk}": "120.00", "currency": "EUR"})

    assert response.status_code == 400
    assert not CheckoutAttempt.objects.exists()


def test_an_amount_that_is_not_a_number_is_refused(client, head_office):
    inv = head_office["east_invoice"]

    response = _post_pay(client, head_office, {"invoice": [inv.pk], f"amount_{inv.pk}": "lots"})

    assert response.status_code == 400
    assert "Enter an amount like 1,234.56." in response.content.decode()
    assert not CheckoutAttempt.objects.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1e26", "Enter an amount like 1,234.56."),
        ("9" * 400, "Enter an amount of at most $9,999,999,999,999,999.99."),
        ("1e3", "Enter an amount like 1,234.56."),
        ("NaN", "Enter an amount like 1,234.56."),
        ("Infinity", "Enter an amount like 1,234.56."),
        ("-0", "above zero"),
        ("1.234", "Enter at most 2 decimals, like 1,234.56."),
        ("12,34", "Enter an amount like 1,234.56."),
    ],
)
def test_an_exotic_or_oversized_amount_on_the_pay_form_is_a_400_with_a_message_never_a_500(
    client, head_office, typed, message
):
    inv = head_office["east_invoice"]

    response = _post_pay(client, head_office, {"invoice": [inv.pk], f"amount_{inv.pk}": typed})

    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert "E+" not in page and "was requested" not in page
    assert not CheckoutAttempt.objects.exists() and not SandboxObject.objects.exists()


def test_an_amount_with_thousands_separators_is_read_as_the_customer_meant(client, head_office):
    inv = InvoiceFactory(customer=head_office["east"], total=Decimal("1500.00"))

    response = _post_pay(client, head_office, {"invoice": [inv.pk], f"amount_{inv.pk}": "1,250.00"})

    assert response.status_code == 302
    assert CheckoutAttempt.objects.get().amount == Decimal("1250.00")


def test_a_method_the_customer_does_not_have_is_refused(client, head_office):
    head_office["hq"].allow_ach = False
    head_office["hq"].save()
    inv = head_office["east_invoice"]

    response = _post_pay(client, head_office, {"invoice": [inv.pk], f"amount_{inv.pk}": "120.00", "method": "ach"})

    assert response.status_code == 400
    assert not CheckoutAttempt.objects.exists()


def test_an_invoice_paid_in_full_is_refused(head_office):
    from django.utils import timezone

    from billing.services.payments import record_payment

    invoice = InvoiceFactory(customer=head_office["east"], total=Decimal("100.00"))
    record_payment(
        customer=head_office["east"],
        amount=Decimal("100.00"),
        paid_on=timezone.localdate(),
        method=Payment.Method.BANK_TRANSFER,
        allocations={invoice.pk: Decimal("100.00")},
    )

    assert _refused(head_office, {invoice.pk: Decimal("1.00")}).code == "exceeds_invoice"
