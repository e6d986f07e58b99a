"""StripeGateway card flows against localstripe on a local port (stripe.api_base pointed at it)."""

from decimal import Decimal

import pytest
import stripe

from billing.gateways import GatewayUnavailable, PaymentDeclined
from billing.gateways.stripe_gateway import StripeGateway
from billing.models import CheckoutAttempt, Payment, SavedPaymentMethod
from billing.services.online_payments import confirm_checkout, start_checkout
from tests.fakes.stripe_servers import free_port, localstripe_server

KEY = "sk_test_localstripe"


@pytest.fixture(scope="module")
def localstripe_url():
    with localstripe_server() as url:
        yield url


@pytest.fixture
def gateway(localstripe_url, settings):
    default = stripe.api_base
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = KEY
    settings.STRIPE_API_BASE = localstripe_url
    yield StripeGateway()
    stripe.api_base = default


def _card(number="4242424242424242") -> str:
    """What Stripe.js does in the browser: turn card details into a PaymentMethod."""
    return stripe.PaymentMethod.create(
        type="card", api_key=KEY, card={"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    )["id"]


def test_a_customer_is_created_and_retrieved(gateway):
    customer_id = gateway.create_customer(email="ap@northwind.example", name="Northwind")

    assert customer_id.startswith("cus_")
    assert gateway.retrieve_customer(customer_id)["email"] == "ap@northwind.example"


def test_a_card_payment_intent_is_created_in_minor_units_and_confirmed(gateway):
    intent = gateway.create_payment_intent(
        amount=Decimal("120.50"), currency="USD", method_kind="card", idempotency_key="checkout-test-1"
    )

    confirmed = gateway.confirm_payment_intent(intent.id, payment_method_id=_card())

    assert (intent.amount, intent.currency, intent.status) == (Decimal("120.50"), "USD", "requires_payment_method")
    assert intent.client_secret
    assert (confirmed.status, confirmed.amount) == ("succeeded", Decimal("120.50"))
    assert gateway.retrieve_payment_intent(intent.id).status == "succeeded"


def test_a_declined_card_becomes_payment_declined_with_a_readable_reason(gateway):
    intent = gateway.create_payment_intent(
        amount=Decimal("10.00"), currency="USD", method_kind="card", idempotency_key="checkout-test-2"
    )

    with pytest.raises(PaymentDeclined) as declined:
        # Stripe's test card that attaches, then has its charge declined
        gateway.confirm_payment_intent(intent.id, payment_method_id=_card("4000000000000341"))

    assert "declined" in declined.value.reason.lower()


def test_a_card_is_saved_through_a_setup_intent_and_reused(gateway):
    customer_id = gateway.create_customer(email="ap@northwind.example", name="Northwind")
    card = _card()

    setup = gateway.create_setup_intent(
        customer_id=customer_id, method_kind="card", payment_method_id=card, confirm=True
    )
    saved = gateway.list_payment_methods(customer_id=customer_id, kind="card")
    intent = gateway.create_payment_intent(
        amount=Decimal("30.00"),
        currency="USD",
        method_kind="card",
        idempotency_key="checkout-test-3",
        customer_id=customer_id,
        payment_method_id=card,
    )
    paid = gateway.confirm_payment_intent(intent.id)

    assert setup.status == "succeeded"
    assert [(m.id, m.brand, m.last4) for m in saved] == [(card, "visa", "4242")]
    assert paid.status == "succeeded"


def test_a_detached_card_is_no_longer_listed(gateway):
    customer_id = gateway.create_customer(email="ap@northwind.example", name="Northwind")
    card = _card()
    gateway.create_setup_intent(customer_id=customer_id, method_kind="card", payment_method_id=card, confirm=True)

    gateway.detach_payment_method(card)

    assert gateway.list_payment_methods(customer_id=customer_id, kind="card") == []


def test_a_partial_refund_is_returned_in_our_units(gateway):
    intent = gateway.create_payment_intent(
        amount=Decimal("50.00"), currency="USD", method_kind="card", idempotency_key="checkout-test-4"
    )
    gateway.confirm_payment_intent(intent.id, payment_method_id=_card())

    refund = gateway.refund(intent_id=intent.id, amount=Decimal("12.34"), currency="USD", idempotency_key="r-1")

    assert refund.id.startswith("re_")
    assert (refund.amount, refund.currency) == (Decimal("12.34"), "USD")


def test_an_unreachable_stripe_becomes_gateway_unavailable(settings):
    default = stripe.api_base
    try:
        gateway = StripeGateway(secret_key=KEY, api_base=f"http://127.0.0.1:{free_port()}", webhook_secret="")
        stripe.max_network_retries = 0
        with pytest.raises(GatewayUnavailable) as unavailable:
            gateway.create_customer(email="a@example.com", name="A")
    finally:
        stripe.api_base = default
    assert "try again" in unavailable.value.reason


@pytest.mark.django_db
def test_a_checkout_with_a_saved_card_is_recorded_from_stripes_server_side_answer(
    gateway, head_office, django_capture_on_commit_callbacks
):
    first = start_checkout(
        payer=head_office["hq"],
        allocations={head_office["east_invoice"].pk: Decimal("120.00")},
        currency="USD",
        method=Payment.Method.CARD,
        save_method=True,
        gateway=gateway,
    )
    with django_capture_on_commit_callbacks(execute=True):
        confirm_checkout(attempt=first, payment_method_id=_card(), gateway=gateway)
    saved = SavedPaymentMethod.objects.get()

    second = start_checkout(
        payer=head_office["hq"],
        allocations={head_office["west_invoice"].pk: Decimal("80.50")},
        currency="USD",
        method=Payment.Method.CARD,
        saved_method=saved,
        gateway=gateway,
    )
    with django_capture_on_commit_callbacks(execute=True):
        second = confirm_checkout(attempt=second, gateway=gateway)

    assert second.status == CheckoutAttempt.Status.SUCCEEDED
    assert (saved.gateway, saved.last4) == ("stripe", "4242")
    assert sorted(Payment.objects.values_list("amount", "status")) == [
        (Decimal("80.50"), "succeeded"),
        (Decimal("120.00"), "succeeded"),
    ]
    assert all(p.gateway_payment_id.startswith("pi_") for p in Payment.objects.all())


@pytest.mark.django_db
def test_the_stripe_checkout_page_mounts_the_payment_element_with_the_intents_secret(
    gateway, head_office, client, settings
):
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
    client.force_login(head_office["contact"].user)
    inv = head_office["east_invoice"]

    started = client.post(
        "/pay/", {"currency": "USD", "method": "card", "invoice": [inv.pk], f"amount_{inv.pk}": "120.00"}
    )
    page = client.get(started["Location"]).content.decode()

    attempt = CheckoutAttempt.objects.get()
    assert '<script src="https://js.stripe.com/v3/"></script>' in page
    assert attempt.client_secret and attempt.client_secret in page and "pk_test_localstripe" in page


@pytest.mark.django_db
def test_the_browser_coming_back_records_nothing_until_stripe_says_the_intent_succeeded(
    gateway, head_office, client, django_capture_on_commit_callbacks
):
    client.force_login(head_office["contact"].user)
    inv = head_office["east_invoice"]
    started = client.post(
        "/pay/", {"currency": "USD", "method": "card", "invoice": [inv.pk], f"amount_{inv.pk}": "120.00"}
    )
    attempt = CheckoutAttempt.objects.get()
    return_url = started["Location"] + "return/"

    client.get(return_url)  # a forged or early redirect: Stripe says requires_payment_method
    recorded_early = Payment.objects.exists()
    gateway.confirm_payment_intent(attempt.gateway_intent_id, payment_method_id=_card())  # what Stripe.js does
    with django_capture_on_commit_callbacks(execute=True):
        done = client.get(return_url, follow=True).content.decode()

    assert not recorded_early
    assert "payment received" in done
    assert Payment.objects.get().gateway_payment_id == attempt.gateway_intent_id


@pytest.mark.django_db
def test_opting_to_save_with_stripe_saves_through_a_setup_intent_then_pays_server_side(
    gateway, head_office, client, django_capture_on_commit_callbacks
):
    client.force_login(head_office["contact"].user)
    inv = head_office["east_invoice"]
    started = client.post(
        "/pay/",
        {"currency": "USD", "method": "card", "save_method": "on", "invoice": [inv.pk], f"amount_{inv.pk}": "120.00"},
    )
    page = client.get(started["Location"]).content.decode()
    setup_secret = page.split('data-secret="')[1].split('"')[0]
    setup_id = setup_secret.split("_secret")[0]
    card = _card()
    # What Stripe.js and Stripe do in the browser: confirm the SetupIntent, attaching the card to the customer.
    stripe.SetupIntent.confirm(setup_id, payment_method=card, api_key=KEY)
    customer_id = stripe.SetupIntent.retrieve(setup_id, api_key=KEY)["customer"]
    stripe.PaymentMethod.attach(card, customer=customer_id, api_key=KEY)

    with django_capture_on_commit_callbacks(execute=True):
        done = client.get(started["Location"] + f"return/?setup_intent={setup_id}", follow=True).content.decode()

    assert 'data-mode="setup"' in page and setup_id.startswith("seti_")
    assert "payment received" in done
    saved = SavedPaymentMethod.objects.get()
    assert (saved.gateway_method_id, saved.gateway_customer_id) == (card, customer_id)
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


@pytest.mark.django_db
def test_a_setup_intent_of_another_customer_is_refused(gateway, head_office, client):
    client.force_login(head_office["contact"].user)
    inv = head_office["east_invoice"]
    started = client.post(
        "/pay/",
        {"currency": "USD", "method": "card", "save_method": "on", "invoice": [inv.pk], f"amount_{inv.pk}": "120.00"},
    )
    stranger = gateway.create_customer(email="x@example.com", name="Stranger")
    foreign = gateway.create_setup_intent(
        customer_id=stranger, method_kind="card", payment_method_id=_card(), confirm=True
    )

    response = client.get(started["Location"] + f"return/?setup_intent={foreign.id}", follow=True)

    assert "was not saved" in response.content.decode()
    assert not Payment.objects.exists() and not SavedPaymentMethod.objects.exists()


def test_list_refunds_reads_an_intents_refunds_in_our_units(gateway):
    intent = gateway.create_payment_intent(
        amount=Decimal("50.00"), currency="USD", method_kind="card", idempotency_key="checkout-list-refunds"
    )
    gateway.confirm_payment_intent(intent.id, payment_method_id=_card())
    first = gateway.refund(intent_id=intent.id, amount=Decimal("10.00"), currency="USD", idempotency_key="r-l-1")
    second = gateway.refund(intent_id=intent.id, amount=Decimal("5.50"), currency="USD", idempotency_key="r-l-2")

    refunds = gateway.list_refunds(intent_id=intent.id)

    assert sorted((r.id, r.amount, r.currency, r.intent_id) for r in refunds) == sorted(
        [(first.id, Decimal("10.00"), "USD", intent.id), (second.id, Decimal("5.50"), "USD", intent.id)]
    )


@pytest.mark.django_db
def test_a_refund_made_in_the_stripe_dashboard_is_recorded_from_charge_refunded_without_its_list(
    gateway, head_office, client, settings, django_capture_on_commit_callbacks
):
    from billing.models import Invoice, Refund
    from tests.fakes.stripe_events import charge_refunded_unlisted, event, refund, signature_header

    settings.STRIPE_WEBHOOK_SECRET = "whsec_localstripe"
    attempt = start_checkout(
        payer=head_office["hq"],
        allocations={head_office["east_invoice"].pk: Decimal("120.00")},
        currency="USD",
        method=Payment.Method.CARD,
        gateway=gateway,
    )
    with django_capture_on_commit_callbacks(execute=True):
        confirm_checkout(attempt=attempt, payment_method_id=_card(), gateway=gateway)
    intent = attempt.gateway_intent_id
    # Someone refunds 30.00 in Stripe's dashboard: our code never asked for it.
    dashboard = stripe.Refund.create(payment_intent=intent, amount=3000, api_key=KEY)

    def post(payload):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/webhooks/stripe/",
                payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signature_header(payload, "whsec_localstripe"),
            )

    unlisted = charge_refunded_unlisted(intent, amount=12000, amount_refunded=3000)
    charge_refunded = post(event("charge.refunded", unlisted))
    from_the_list = list(Refund.objects.values_list("gateway_refund_id", "amount", "status"))
    late = post(event("refund.created", refund(dashboard["id"], intent, amount=3000, status="succeeded")))

    assert (charge_refunded.status_code, late.status_code) == (200, 200)
    assert from_the_list == [(dashboard["id"], Decimal("30.00"), "succeeded")]
    assert Refund.objects.count() == 1
    assert Invoice.objects.get(pk=head_office["east_invoice"].pk).balance_due == Decimal("30.00")


@pytest.mark.django_db
def test_a_card_confirmed_by_stripe_js_then_declined_is_not_saved(
    gateway, head_office, client, django_capture_on_commit_callbacks
):
    client.force_login(head_office["contact"].user)
    inv = head_office["east_invoice"]
    started = client.post(
        "/pay/",
        {"currency": "USD", "method": "card", "save_method": "on", "invoice": [inv.pk], f"amount_{inv.pk}": "120.00"},
    )
    page = client.get(started["Location"]).content.decode()
    setup_id = page.split('data-secret="')[1].split('"')[0].split("_secret")[0]
    card = _card("4000000000000341")  # attaches, then its charge is declined
    stripe.SetupIntent.confirm(setup_id, payment_method=card, api_key=KEY)
    customer_id = stripe.SetupIntent.retrieve(setup_id, api_key=KEY)["customer"]
    stripe.PaymentMethod.attach(card, customer=customer_id, api_key=KEY)

    with django_capture_on_commit_callbacks(execute=True):
        done = client.get(started["Location"] + f"return/?setup_intent={setup_id}", follow=True).content.decode()

    assert "declined" in done.lower()
    assert not SavedPaymentMethod.objects.exists()
    assert not Payment.objects.exists()
