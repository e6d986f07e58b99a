"""The Pay Now pages through the test client with the sandbox gateway."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import CheckoutAttempt, Invoice, Payment, SavedPaymentMethod
from tests.factories import ContactPersonFactory, CustomerFactory, InvoiceFactory, RetainerInvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, head_office):
    client.force_login(head_office["contact"].user)
    return client


def test_pay_outstanding_lists_own_and_branch_invoices_with_the_total(logged_in, head_office):
    own = InvoiceFactory(customer=head_office["hq"], total=Decimal("10.00"))

    page = logged_in.get(reverse("portal:pay-outstanding")).content.decode()

    for invoice in (own, head_office["east_invoice"], head_office["west_invoice"]):
        assert invoice.number in page
    assert "$210.50" in page
    assert "js.stripe.com" not in page


def test_paying_everything_outstanding_by_sandbox_card_pays_every_invoice(
    logged_in, head_office, django_capture_on_commit_callbacks
):
    east, west = head_office["east_invoice"], head_office["west_invoice"]
    form = {
        "currency": "USD",
        "method": "card",
        "invoice": [east.pk, west.pk],
        f"amount_{east.pk}": "120.00",
        f"amount_{west.pk}": "80.50",
    }

    started = logged_in.post(reverse("portal:pay-outstanding"), form)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = logged_in.post(started["Location"], {"scenario": "card_success"})
    done = logged_in.get(confirmed["Location"]).content.decode()

    assert started.status_code == 302 and confirmed.status_code == 302
    payment = Payment.objects.get()
    assert payment.number in done and "payment received" in done
    assert set(Invoice.objects.values_list("balance_due", flat=True)) == {Decimal("0.00")}



def test_the_home_figures_follow_a_card_payment_at_once(logged_in, head_office, django_capture_on_commit_callbacks):
    """Home reads the kept account figures: the payment's transaction recomputes them before it commits."""
    east, west = head_office["east_invoice"], head_office["west_invoice"]
    before = logged_in.get("/").content.decode()

    started = logged_in.post(reverse("portal:pay-outstanding"), {
        "currency": "USD", "method": "card", "invoice": [east.pk], f"amount_{east.pk}": "45.25"})
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(started["Location"], {"scenario": "card_success"})
    after = logged_in.get("/").content.decode()

    assert 'data-figure="outstanding_invoices">$200.50<' in before  # 120.00 + 80.50
    assert 'data-figure="outstanding_invoices">$155.25<' in after
    assert west.number not in Payment.objects.get().allocations.values_list("invoice__number", flat=True)

def test_one_invoice_can_be_paid_in_part_when_it_allows_it(logged_in, head_office):
    inv = head_office["east_invoice"]

    page = logged_in.get(reverse("portal:pay-invoice", kwargs={"invoice_id": inv.pk})).content.decode()
    started = logged_in.post(
        reverse("portal:pay-invoice", kwargs={"invoice_id": inv.pk}),
        {"currency": "USD", "method": "card", "invoice": [inv.pk], f"amount_{inv.pk}": "20.00"},
    )

    assert f'name="amount_{inv.pk}" id="amount_{inv.pk}" class="pay-amount" inputmode="decimal"' in page
    assert started.status_code == 302
    assert CheckoutAttempt.objects.get().amount == Decimal("20.00")


def test_a_retainer_invoice_can_be_paid_like_an_invoice(logged_in, head_office):
    retainer = RetainerInvoiceFactory(customer=head_office["hq"], total=Decimal("40.00"))

    response = logged_in.post(
        reverse("portal:pay-invoice", kwargs={"invoice_id": retainer.pk}),
        {"currency": "USD", "method": "card", "invoice": [retainer.pk], f"amount_{retainer.pk}": "40.00"},
    )

    assert response.status_code == 302
    assert CheckoutAttempt.objects.get().lines.get().invoice == retainer


def test_an_invoice_of_another_company_is_a_404(logged_in):
    foreign = InvoiceFactory(customer=CustomerFactory())

    response = logged_in.get(reverse("portal:pay-invoice", kwargs={"invoice_id": foreign.pk}))

    assert response.status_code == 404


def test_someone_elses_checkout_is_a_404(client, head_office, logged_in):
    inv = head_office["east_invoice"]
    logged_in.post(
        reverse("portal:pay-outstanding"),
        {"currency": "USD", "method": "card", "invoice": [inv.pk], f"amount_{inv.pk}": "120.00"},
    )
    stranger = ContactPersonFactory()
    client.force_login(stranger.user)

    response = client.get(reverse("portal:pay-checkout", kwargs={"token": CheckoutAttempt.objects.get().token}))

    assert response.status_code == 404


def test_selected_invoices_from_the_list_are_shown_for_one_payment(logged_in, head_office):
    east, west = head_office["east_invoice"], head_office["west_invoice"]

    page = logged_in.post(reverse("portal:pay-selected"), {"invoice_ids": [east.pk, west.pk]}).content.decode()

    assert east.number in page and west.number in page and "$200.50" in page


def test_ach_is_offered_only_to_customers_allowed_to_pay_by_bank(logged_in, head_office):
    offered = logged_in.get(reverse("portal:pay-outstanding")).content.decode()
    head_office["hq"].allow_ach = False
    head_office["hq"].save()
    hidden = logged_in.get(reverse("portal:pay-outstanding")).content.decode()

    assert "US bank account (ACH)" in offered
    assert "US bank account (ACH)" not in hidden


def test_an_ach_payment_shows_processing_and_then_settles(logged_in, head_office, django_capture_on_commit_callbacks):
    inv = head_office["east_invoice"]
    started = logged_in.post(
        reverse("portal:pay-outstanding"),
        {"currency": "USD", "method": "ach", "invoice": [inv.pk], f"amount_{inv.pk}": "120.00"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        done_url = logged_in.post(started["Location"], {"scenario": "ach_settles"})["Location"]
    processing = logged_in.get(done_url).content.decode()
    pay_again = logged_in.get(reverse("portal:pay-outstanding")).content.decode()
    token = CheckoutAttempt.objects.get().token
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(reverse("portal:pay-settle", kwargs={"token": token}), {"outcome": "settle"})
    settled = logged_in.get(done_url).content.decode()

    assert "Payment processing" in processing
    assert "Payment processing" in pay_again  # the invoice is blocked while the debit is pending
    assert "payment received" in settled
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


def test_saved_methods_are_listed_and_removable(logged_in, head_office, django_capture_on_commit_callbacks):
    inv = head_office["east_invoice"]
    started = logged_in.post(
        reverse("portal:pay-outstanding"),
        {
            "currency": "USD",
            "method": "card",
            "save_method": "on",
            "invoice": [inv.pk],
            f"amount_{inv.pk}": "120.00",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(started["Location"], {"scenario": "card_success"})
    saved = SavedPaymentMethod.objects.get()

    listed = logged_in.get(reverse("portal:payment-methods")).content.decode()
    removed = logged_in.post(reverse("portal:payment-methods"), {"remove": saved.pk})

    assert "visa ···· 4242" in listed
    assert removed.status_code == 302
    assert not SavedPaymentMethod.objects.exists()


def test_another_customers_saved_method_cannot_be_removed(logged_in):
    other = SavedPaymentMethod.objects.create(
        customer=CustomerFactory(),
        gateway="sandbox",
        kind="card",
        gateway_customer_id="cus_x",
        gateway_method_id="pm_x",
        last4="4242",
    )

    response = logged_in.post(reverse("portal:payment-methods"), {"remove": other.pk})

    assert response.status_code == 404
    assert SavedPaymentMethod.objects.filter(pk=other.pk).exists()
