"""The one interface the services use to take money online, whatever gateway sits behind it.

Gateways speak Stripe's vocabulary (customers, PaymentIntents, SetupIntents, events) because
Stripe is the real one; the sandbox imitates it. Amounts cross this boundary as Decimal plus
currency; each gateway converts to its own units. Gateway failures leave here only as the
exceptions below, with a reason fit to show a payer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CARD = "card"
US_BANK_ACCOUNT = "us_bank_account"
METHOD_KINDS = (CARD, US_BANK_ACCOUNT)


class GatewayError(Exception):
    """Base of every gateway failure. `reason` is readable by a payer or a bookkeeper."""

    def __init__(self, reason: str, *, code: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.code = code


class PaymentDeclined(GatewayError):
    """The bank or the card network said no (declined card, insufficient funds…)."""


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or answered with an error of its own; safe to try again."""


class InvalidWebhook(GatewayError):
    """A webhook whose signature is missing, wrong or too old: it must be ignored."""


@dataclass(frozen=True)
class Intent:
    """A PaymentIntent as far as we care."""

    id: str
    # requires_payment_method | requires_confirmation | requires_action | processing | succeeded | canceled
    status: str
    amount: Decimal
    currency: str  # upper case, like our columns
    method_kind: str = ""  # card | us_bank_account, once known
    client_secret: str = ""
    payment_method_id: str = ""
    customer_id: str = ""
    failure_reason: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SetupResult:
    id: str
    status: str
    client_secret: str = ""
    payment_method_id: str = ""
    customer_id: str = ""


@dataclass(frozen=True)
class MethodDetails:
    """A payment method stored at the gateway: what the payer needs to recognise it."""

    id: str
    kind: str  # card | us_bank_account
    brand: str = ""  # card brand, or the bank's name
    last4: str = ""
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class WebhookEvent:
    """A verified gateway event, Stripe-shaped: `data` is event["data"]["object"]."""

    id: str
    type: str
    data: dict[str, Any]
    payload: dict[str, Any]


class Gateway:
    """What a payment gateway must do for us. Every method may raise a GatewayError."""

    name = ""
    #: the checkout page mounts Stripe.js (True) or shows our own sandbox form (False)
    uses_stripe_js = False

    def create_customer(self, *, email: str, name: str, metadata: dict | None = None) -> str:
        raise NotImplementedError

    def retrieve_customer(self, customer_id: str) -> dict:
        raise NotImplementedError

    def create_payment_intent(
        self,
        *,
        amount: Decimal,
        currency: str,
        method_kind: str,
        idempotency_key: str,
        customer_id: str = "",
        payment_method_id: str = "",
        metadata: dict | None = None,
    ) -> Intent:
        raise NotImplementedError

    def confirm_payment_intent(
        self, intent_id: str, *, payment_method_id: str = "", idempotency_key: str = ""
    ) -> Intent:
        raise NotImplementedError

    def retrieve_payment_intent(self, intent_id: str) -> Intent:
        raise NotImplementedError

    def create_setup_intent(
        self,
        *,
        customer_id: str,
        method_kind: str,
        payment_method_id: str = "",
        confirm: bool = False,
        idempotency_key: str = "",
    ) -> SetupResult:
        raise NotImplementedError

    def list_payment_methods(self, *, customer_id: str, kind: str) -> list[MethodDetails]:
        raise NotImplementedError

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupResult:
        raise NotImplementedError

    def retrieve_payment_method(self, method_id: str) -> MethodDetails:
        raise NotImplementedError

    def detach_payment_method(self, method_id: str) -> None:
        raise NotImplementedError

    def refund(self, *, intent_id: str, amount: Decimal, currency: str, idempotency_key: str) -> RefundResult:
        raise NotImplementedError

    def parse_webhook(self, *, payload: bytes, signature_header: str) -> WebhookEvent:
        raise NotImplementedError
