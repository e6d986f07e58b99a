"""Factories for online payments (ours; the shared ones are in tests/factories.py)."""

import uuid
from decimal import Decimal

import factory

from billing.models import CheckoutAttempt, CheckoutLine, Payment
from tests.factories import CustomerFactory


class CheckoutAttemptFactory(factory.django.DjangoModelFactory):
    """An open Stripe card checkout of 100.00 with its intent created."""

    class Meta:
        model = CheckoutAttempt

    payer = factory.SubFactory(CustomerFactory)
    amount = Decimal("100.00")
    currency = factory.SelfAttribute("payer.currency")
    method = Payment.Method.CARD
    idempotency_key = factory.LazyFunction(lambda: f"checkout-{uuid.uuid4()}")
    gateway = "stripe"
    gateway_intent_id = factory.Sequence(lambda n: f"pi_test{n:06d}")


class CheckoutLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckoutLine

    attempt = factory.SubFactory(CheckoutAttemptFactory)
    invoice = factory.SubFactory("tests.factories.InvoiceFactory", customer=factory.SelfAttribute("..attempt.payer"))
    amount = factory.SelfAttribute("invoice.balance_due")
