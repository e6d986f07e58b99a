"""The one interface the services use to take money online, whatever gateway sits behind it.

Gateways speak Stripe's vocabulary (customers, PaymentIntents, SetupIntents, events) because
Stripe is the real one; the sandbox imitates it. Amounts cross this boundary as Decimal plus
currency; each gateway converts to its own units. Gateway failures leave here only as the
exceptions below, with a reason fit to show a payer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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


# What a gateway event is about, in our words: each gateway maps its own event types to one of these
# (StripeGateway.EVENT_KINDS), and the services keep one handler per kind. Adding a kind is one entry
# on each side and its test.
class EventKind:
    INTENT_UPDATED = "intent_updated"  # a PaymentIntent moved (processing, succeeded, failed, canceled)
    REFUND_UPDATED = "refund_updated"  # one refund was created or changed status
    CHARGE_REFUNDED = "charge_refunded"  # a charge's refunds changed; `refunds` is None when not listed
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_UPDATED = "dispute_updated"  # evidence, status, or the disputed funds withdrawn / reinstated
    DISPUTE_CLOSED = "dispute_closed"
    UNHANDLED = "unhandled"

    DISPUTES = (DISPUTE_OPENED, DISPUTE_UPDATED, DISPUTE_CLOSED)


@dataclass(frozen=True)
class RefundInfo:
    """A refund at the gateway. status: pending | succeeded | failed | canceled (Stripe's
    requires_action is pending: the money has not come back to us)."""

    id: str
    amount: Decimal
    currency: str
    status: str
    intent_id: str = ""
    failure_reason: str = ""


@dataclass(frozen=True)
class DisputeInfo:
    """A card dispute at the gateway, with Stripe's statuses (see billing.models.Dispute.Status)."""

    id: str
    amount: Decimal
    currency: str
    status: str
    intent_id: str
    reason: str = ""
    evidence_due_by: datetime | None = None
    fee: Decimal = Decimal("0.00")  # net fees charged for the dispute so far
    opened_at: datetime | None = None


@dataclass(frozen=True)
class PaymentEvent:
    """A gateway event in our words: what the services act on (they never read the provider's JSON).

    `intent_id` is the PaymentIntent the event concerns (our Payment.gateway_payment_id). `other_account`
    is set when the event belongs to another account than ours (a Stripe Connect account): ignored.
    """

    kind: str
    type: str  # the gateway's own name for the event, for outcomes and logs
    intent_id: str = ""
    intent: Intent | None = None
    amount: Decimal | None = None  # charge_refunded: the amount refunded so far
    currency: str = ""
    refunds: tuple[RefundInfo, ...] | None = None
    dispute: DisputeInfo | None = None
    other_account: str = ""
    unreadable: str = ""  # why an event of a handled type could not be read (then kind is UNHANDLED)


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

    def list_refunds(self, *, intent_id: str) -> list[RefundInfo]:
        """Every refund of this PaymentIntent, as the gateway has them now."""
        raise NotImplementedError

    def parse_webhook(self, *, payload: bytes, signature_header: str) -> WebhookEvent:
        raise NotImplementedError

    def translate(self, payload: dict[str, Any]) -> PaymentEvent:
        """A stored event (WebhookEvent.payload) in our words. Never raises for an unknown or odd
        event: it comes back as EventKind.UNHANDLED."""
        raise NotImplementedError
