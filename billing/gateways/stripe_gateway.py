"""StripeGateway: stripe-python against api.stripe.com, or settings.STRIPE_API_BASE (localstripe in tests)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal

import stripe
from django.conf import settings

from billing.money import from_minor_units, to_minor_units

from .base import (
    CARD,
    US_BANK_ACCOUNT,
    DisputeInfo,
    EventKind,
    Gateway,
    GatewayUnavailable,
    Intent,
    InvalidWebhook,
    MethodDetails,
    PaymentDeclined,
    PaymentEvent,
    RefundInfo,
    RefundResult,
    SetupResult,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

# Stripe's own tolerance; a replay older than this is refused even with a valid signature.
WEBHOOK_TOLERANCE_SECONDS = 300

# Stripe's event types in our words (every payment_intent.* event is INTENT_UPDATED). Subscribe the
# webhook endpoint to these (README, "Stripe").
EVENT_KINDS = {
    "refund.created": EventKind.REFUND_UPDATED,
    "refund.updated": EventKind.REFUND_UPDATED,
    "refund.failed": EventKind.REFUND_UPDATED,
    "charge.refund.updated": EventKind.REFUND_UPDATED,
    "charge.refunded": EventKind.CHARGE_REFUNDED,
    "charge.dispute.created": EventKind.DISPUTE_OPENED,
    "charge.dispute.updated": EventKind.DISPUTE_UPDATED,
    "charge.dispute.funds_withdrawn": EventKind.DISPUTE_UPDATED,
    "charge.dispute.funds_reinstated": EventKind.DISPUTE_UPDATED,
    "charge.dispute.closed": EventKind.DISPUTE_CLOSED,
}


def _get(obj, key, default=None):
    """Read a field from a StripeObject or a plain dict (events arrive as dicts)."""
    if obj is None:
        return default
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def intent_from_stripe(obj) -> Intent:
    """Our Intent from a Stripe PaymentIntent (object or event dict)."""
    currency = str(_get(obj, "currency", "")).upper()
    types = _get(obj, "payment_method_types", []) or []
    pm = _get(obj, "payment_method", "")
    if not isinstance(pm, str):
        pm = _get(pm, "id", "")
    error = _get(obj, "last_payment_error")
    reason = _get(error, "message", "") if error else ""
    return Intent(
        id=_get(obj, "id", ""),
        status=_get(obj, "status", ""),
        amount=from_minor_units(int(_get(obj, "amount", 0)), currency),
        currency=currency,
        method_kind=types[0] if len(types) == 1 else "",
        client_secret=_get(obj, "client_secret", ""),
        payment_method_id=pm or "",
        customer_id=_get(obj, "customer", "") or "",
        failure_reason=reason,
        metadata=dict(_get(obj, "metadata", {}) or {}),
    )


def _id_of(value) -> str:
    """An expandable field: the id string, or the expanded object's id."""
    if isinstance(value, str):
        return value
    return _get(value, "id", "") or ""


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def refund_from_stripe(obj) -> RefundInfo:
    """Our RefundInfo from a Stripe Refund. requires_action is still pending for us: nothing came back."""
    currency = str(_get(obj, "currency", "")).upper()
    status = _get(obj, "status", "") or "pending"
    return RefundInfo(
        id=obj["id"],
        amount=from_minor_units(int(obj["amount"]), currency),
        currency=currency,
        status="pending" if status == "requires_action" else status,
        intent_id=_id_of(_get(obj, "payment_intent", "")),
        failure_reason=_get(obj, "failure_reason", "") or "",
    )


def dispute_from_stripe(obj) -> DisputeInfo:
    """Our DisputeInfo from a Stripe Dispute; the fee is the net of its balance transactions' fees."""
    currency = str(_get(obj, "currency", "")).upper()
    fee = sum((int(_get(bt, "fee", 0)) for bt in _get(obj, "balance_transactions", []) if isinstance(bt, dict)), 0)
    return DisputeInfo(
        id=obj["id"],
        amount=from_minor_units(int(obj["amount"]), currency),
        currency=currency,
        status=_get(obj, "status", ""),
        intent_id=_id_of(_get(obj, "payment_intent", "")),
        reason=_get(obj, "reason", "") or "",
        evidence_due_by=_timestamp(_get(_get(obj, "evidence_details", {}), "due_by")),
        fee=from_minor_units(fee, currency),
        opened_at=_timestamp(_get(obj, "created")),
    )


def translate_stripe_event(payload: dict) -> PaymentEvent:
    """A Stripe-shaped event (Stripe's own, or the sandbox's imitation) in our words.

    charge.refunded carries the refunds only when the charge's list is there in full: since API
    version 2022-11-15 Stripe no longer expands it, so `refunds` is None and the caller asks
    `list_refunds`. An event that does not parse is UNHANDLED, never an exception.
    """
    event_type = str(payload.get("type", "")) if isinstance(payload, dict) else ""
    kind = EventKind.INTENT_UPDATED if event_type.startswith("payment_intent.") else EVENT_KINDS.get(event_type)
    other = str(payload.get("account") or "") if isinstance(payload, dict) else ""
    if kind is None:
        return PaymentEvent(kind=EventKind.UNHANDLED, type=event_type, other_account=other)
    try:
        obj = payload["data"]["object"]
        if kind == EventKind.INTENT_UPDATED:
            intent = intent_from_stripe(obj)
            return PaymentEvent(kind=kind, type=event_type, intent_id=intent.id, intent=intent,
                                amount=intent.amount, currency=intent.currency, other_account=other)
        if kind == EventKind.REFUND_UPDATED:
            refund = refund_from_stripe(obj)
            return PaymentEvent(kind=kind, type=event_type, intent_id=refund.intent_id, amount=refund.amount,
                                currency=refund.currency, refunds=(refund,), other_account=other)
        if kind == EventKind.CHARGE_REFUNDED:
            currency = str(obj["currency"]).upper()
            listing = _get(obj, "refunds")
            refunds = None
            if isinstance(listing, dict) and isinstance(listing.get("data"), list) and not listing.get("has_more"):
                refunds = tuple(refund_from_stripe(r) for r in listing["data"])
            return PaymentEvent(kind=kind, type=event_type, intent_id=_id_of(_get(obj, "payment_intent", "")),
                                amount=from_minor_units(int(obj["amount_refunded"]), currency), currency=currency,
                                refunds=refunds, other_account=other)
        dispute = dispute_from_stripe(obj)
        return PaymentEvent(kind=kind, type=event_type, intent_id=dispute.intent_id, amount=dispute.amount,
                            currency=dispute.currency, dispute=dispute, other_account=other)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        logger.warning("Gateway event %s could not be read: %r", event_type, exc)
        return PaymentEvent(
            kind=EventKind.UNHANDLED, type=event_type, other_account=other, unreadable=f"{type(exc).__name__}: {exc}"
        )


def _method_from_stripe(obj) -> MethodDetails:
    kind = _get(obj, "type", "")
    if kind == CARD:
        card = _get(obj, "card", {})
        return MethodDetails(
            id=obj["id"],
            kind=CARD,
            brand=_get(card, "brand", ""),
            last4=_get(card, "last4", ""),
            exp_month=_get(card, "exp_month"),
            exp_year=_get(card, "exp_year"),
        )
    bank = _get(obj, US_BANK_ACCOUNT, {})
    return MethodDetails(id=obj["id"], kind=kind, brand=_get(bank, "bank_name", ""), last4=_get(bank, "last4", ""))


def _setup_from_stripe(obj) -> SetupResult:
    pm = _get(obj, "payment_method", "")
    return SetupResult(
        id=obj["id"],
        status=obj["status"],
        client_secret=_get(obj, "client_secret", ""),
        payment_method_id=pm if isinstance(pm, str) else _get(pm, "id", ""),
        customer_id=_get(obj, "customer", "") or "",
    )


def _translate(exc: stripe.StripeError) -> Exception:
    """Stripe's exceptions become ours, with a message a payer can read."""
    message = getattr(exc, "user_message", None) or str(getattr(exc, "_message", "") or "") or "The payment failed."
    if isinstance(exc, stripe.CardError):
        return PaymentDeclined(message, code=getattr(exc, "code", "") or "card_declined")
    if isinstance(exc, stripe.InvalidRequestError | stripe.IdempotencyError):
        return PaymentDeclined(message, code=getattr(exc, "code", "") or "invalid_request")
    return GatewayUnavailable(
        "The payment service is not answering right now. Please try again in a few minutes.",
        code=type(exc).__name__,
    )


class StripeGateway(Gateway):
    name = "stripe"
    uses_stripe_js = True

    def __init__(
        self, *, secret_key: str | None = None, api_base: str | None = None, webhook_secret: str | None = None
    ):
        self.api_key = secret_key if secret_key is not None else settings.STRIPE_SECRET_KEY
        self.webhook_secret = webhook_secret if webhook_secret is not None else settings.STRIPE_WEBHOOK_SECRET
        # Every request names the API version the code (and translate_stripe_event) is written against.
        self.api_version = settings.STRIPE_API_VERSION
        api_base = api_base if api_base is not None else settings.STRIPE_API_BASE
        if api_base:
            stripe.api_base = api_base.rstrip("/")
        stripe.max_network_retries = 2  # with idempotency keys a retried POST cannot charge twice

    def _call(self, fn, *args, **kwargs):
        try:
            result = fn(*args, api_key=self.api_key, stripe_version=self.api_version, **kwargs)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        # Plain dicts from here on, the same shape as the webhook events we parse.
        return result.to_dict() if hasattr(result, "to_dict") else result

    # Customers
    def create_customer(self, *, email: str, name: str, metadata: dict | None = None) -> str:
        return self._call(stripe.Customer.create, email=email, name=name, metadata=metadata or {})["id"]

    def retrieve_customer(self, customer_id: str) -> dict:
        return dict(self._call(stripe.Customer.retrieve, customer_id))

    # PaymentIntents
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
        params = dict(
            amount=to_minor_units(amount, currency),
            currency=currency.lower(),
            payment_method_types=[method_kind],
            metadata=metadata or {},
        )
        if customer_id:
            params["customer"] = customer_id
        if payment_method_id:
            params["payment_method"] = payment_method_id
        if method_kind == US_BANK_ACCOUNT:
            params["payment_method_options"] = {US_BANK_ACCOUNT: {"verification_method": "automatic"}}
        return intent_from_stripe(self._call(stripe.PaymentIntent.create, idempotency_key=idempotency_key, **params))

    def confirm_payment_intent(
        self, intent_id: str, *, payment_method_id: str = "", idempotency_key: str = ""
    ) -> Intent:
        if payment_method_id:
            # Set the method first, then confirm: Stripe takes both ways; localstripe only this one.
            self._call(stripe.PaymentIntent.modify, intent_id, payment_method=payment_method_id)
        params = {"idempotency_key": idempotency_key} if idempotency_key else {}
        intent = intent_from_stripe(self._call(stripe.PaymentIntent.confirm, intent_id, **params))
        if intent.status == "requires_payment_method" and intent.failure_reason:
            raise PaymentDeclined(intent.failure_reason, code="declined")
        return intent

    def retrieve_payment_intent(self, intent_id: str) -> Intent:
        return intent_from_stripe(self._call(stripe.PaymentIntent.retrieve, intent_id))

    # Saved methods: localstripe (and our ACH flow) save through a SetupIntent, not setup_future_usage.
    def create_setup_intent(
        self,
        *,
        customer_id: str,
        method_kind: str,
        payment_method_id: str = "",
        confirm: bool = False,
        idempotency_key: str = "",
    ) -> SetupResult:
        # With a key, a repeat (the payer reloading the page) gets the first SetupIntent back.
        key = {"idempotency_key": idempotency_key} if idempotency_key else {}
        obj = self._call(stripe.SetupIntent.create, customer=customer_id, payment_method_types=[method_kind], **key)
        if payment_method_id and confirm:
            obj = self._call(stripe.SetupIntent.confirm, obj["id"], payment_method=payment_method_id)
            attached = self._call(stripe.PaymentMethod.retrieve, payment_method_id)
            if _get(attached, "customer", "") != customer_id:
                # Stripe attaches on confirmation; localstripe does not, and attaching again is harmless.
                self._call(stripe.PaymentMethod.attach, payment_method_id, customer=customer_id)
        return _setup_from_stripe(obj)

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupResult:
        return _setup_from_stripe(self._call(stripe.SetupIntent.retrieve, setup_intent_id))

    def attach_payment_method(self, method_id: str, *, customer_id: str) -> MethodDetails:
        return _method_from_stripe(self._call(stripe.PaymentMethod.attach, method_id, customer=customer_id))

    def list_payment_methods(self, *, customer_id: str, kind: str) -> list[MethodDetails]:
        listing = self._call(stripe.PaymentMethod.list, customer=customer_id, type=kind)
        return [_method_from_stripe(obj) for obj in listing["data"]]

    def retrieve_payment_method(self, method_id: str) -> MethodDetails:
        return _method_from_stripe(self._call(stripe.PaymentMethod.retrieve, method_id))

    def detach_payment_method(self, method_id: str) -> None:
        self._call(stripe.PaymentMethod.detach, method_id)

    # Refunds
    def refund(self, *, intent_id: str, amount: Decimal, currency: str, idempotency_key: str) -> RefundResult:
        obj = self._call(
            stripe.Refund.create,
            payment_intent=intent_id,
            amount=to_minor_units(amount, currency),
            idempotency_key=idempotency_key,
        )
        cur = str(obj["currency"]).upper()
        return RefundResult(
            id=obj["id"], status=obj["status"], amount=from_minor_units(int(obj["amount"]), cur), currency=cur
        )

    def list_refunds(self, *, intent_id: str) -> list[RefundInfo]:
        params = {"payment_intent": intent_id, "limit": 100}
        refunds = []
        while True:
            page = self._call(stripe.Refund.list, **params)
            refunds += [refund_from_stripe(obj) for obj in page["data"]]
            if not page.get("has_more") or not page["data"]:
                return refunds
            params["starting_after"] = page["data"][-1]["id"]

    # Webhooks
    def translate(self, payload: dict) -> PaymentEvent:
        return translate_stripe_event(payload)

    def parse_webhook(self, *, payload: bytes, signature_header: str) -> WebhookEvent:
        if not self.webhook_secret:
            raise InvalidWebhook("No webhook secret is configured (STRIPE_WEBHOOK_SECRET).", code="no_secret")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                signature_header or "",
                self.webhook_secret,
                WEBHOOK_TOLERANCE_SECONDS,
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook(str(exc), code="bad_signature") from exc
        except UnicodeDecodeError as exc:
            raise InvalidWebhook("The webhook body is not UTF-8.", code="bad_payload") from exc
        try:
            event = json.loads(payload)
            return WebhookEvent(id=event["id"], type=event["type"], data=event["data"]["object"], payload=event)
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidWebhook("The webhook body is not a Stripe event.", code="bad_payload") from exc
