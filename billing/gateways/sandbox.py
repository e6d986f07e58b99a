"""SandboxGateway: Stripe's shapes without a network, so `make run` can take payments on a fresh machine.

Its state lives in the database (SandboxObject) so several web processes share it. Each change it
makes also becomes a Stripe-shaped event in its outbox; `take_events()` hands them over like a
webhook delivery, and the services record them exactly as they record Stripe's webhooks.
"""

from __future__ import annotations

import json
import secrets
import time
from decimal import Decimal

from django.db import IntegrityError, transaction

from billing.money import from_minor_units, to_minor_units

from .base import (
    CARD,
    US_BANK_ACCOUNT,
    Gateway,
    GatewayError,
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
from .stripe_gateway import refund_from_stripe, translate_stripe_event

# The payer picks one of these on the sandbox form; each becomes a payment method whose behaviour is fixed.
SCENARIOS = {
    "card_success": dict(type=CARD, card=dict(brand="visa", last4="4242", exp_month=12, exp_year=2034)),
    "card_decline": dict(
        type=CARD,
        card=dict(brand="visa", last4="0002", exp_month=12, exp_year=2034),
        decline="Your card was declined.",
    ),
    "ach_settles": dict(type=US_BANK_ACCOUNT, us_bank_account=dict(bank_name="STRIPE TEST BANK", last4="6789")),
    "ach_fails": dict(
        type=US_BANK_ACCOUNT,
        us_bank_account=dict(bank_name="STRIPE TEST BANK", last4="1116"),
        ach_failure="The bank account has insufficient funds.",
    ),
}
SANDBOX_WEBHOOK_SECRET = "whsec_sandbox"


def _new_id(prefix: str) -> str:
    return f"{prefix}_sbx_{secrets.token_hex(12)}"


class SandboxGateway(Gateway):
    name = "sandbox"
    uses_stripe_js = False

    # Storage helpers
    @staticmethod
    def _model():
        from billing.models.online import SandboxObject

        return SandboxObject

    def _get(self, object_id: str, kind: str, *, lock: bool = False):
        qs = self._model().objects.filter(pk=object_id, kind=kind)
        if lock:
            qs = qs.select_for_update()
        obj = qs.first()
        if obj is None:
            raise PaymentDeclined(f"No such {kind.replace('_', ' ')}.", code="resource_missing")
        return obj

    def _emit(self, event_type: str, data: dict) -> None:
        event_id = _new_id("evt")
        payload = {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": data},
        }
        self._model().objects.create(pk=event_id, kind="event", data={"payload": payload, "delivered": False})

    @staticmethod
    def _intent(obj) -> Intent:
        d = obj.data
        error = d.get("last_payment_error") or {}
        return Intent(
            id=obj.pk,
            status=d["status"],
            amount=from_minor_units(d["amount"], d["currency"].upper()),
            currency=d["currency"].upper(),
            method_kind=d["payment_method_types"][0],
            client_secret=d["client_secret"],
            payment_method_id=d.get("payment_method") or "",
            customer_id=d.get("customer") or "",
            failure_reason=error.get("message", ""),
            metadata=d.get("metadata", {}),
        )

    @staticmethod
    def _intent_payload(obj) -> dict:
        return {"id": obj.pk, "object": "payment_intent", **obj.data}

    # Customers
    def create_customer(self, *, email: str, name: str, metadata: dict | None = None) -> str:
        obj = self._model().objects.create(
            pk=_new_id("cus"), kind="customer", data=dict(email=email, name=name, metadata=metadata or {})
        )
        return obj.pk

    def retrieve_customer(self, customer_id: str) -> dict:
        return {"id": customer_id, "object": "customer", **self._get(customer_id, "customer").data}

    # Payment methods: made from a scenario on the sandbox form
    def create_payment_method(self, *, scenario: str) -> str:
        if scenario not in SCENARIOS:
            raise PaymentDeclined("Choose one of the sandbox outcomes.", code="bad_scenario")
        obj = self._model().objects.create(
            pk=_new_id("pm"), kind="payment_method", data=dict(SCENARIOS[scenario], customer=None)
        )
        return obj.pk

    @staticmethod
    def _method(obj) -> MethodDetails:
        d = obj.data
        if d["type"] == CARD:
            c = d["card"]
            return MethodDetails(
                id=obj.pk,
                kind=CARD,
                brand=c["brand"],
                last4=c["last4"],
                exp_month=c["exp_month"],
                exp_year=c["exp_year"],
            )
        b = d[US_BANK_ACCOUNT]
        return MethodDetails(id=obj.pk, kind=US_BANK_ACCOUNT, brand=b["bank_name"], last4=b["last4"])

    def retrieve_payment_method(self, method_id: str) -> MethodDetails:
        return self._method(self._get(method_id, "payment_method"))

    def list_payment_methods(self, *, customer_id: str, kind: str) -> list[MethodDetails]:
        objs = self._model().objects.filter(kind="payment_method", data__customer=customer_id)
        return [self._method(o) for o in objs if o.data["type"] == kind]

    def detach_payment_method(self, method_id: str) -> None:
        obj = self._get(method_id, "payment_method")
        obj.data["customer"] = None
        obj.save(update_fields=["data"])

    def create_setup_intent(
        self,
        *,
        customer_id: str,
        method_kind: str,
        payment_method_id: str = "",
        confirm: bool = False,
        idempotency_key: str = "",
    ) -> SetupResult:
        Model = self._model()
        existing = Model.objects.filter(idempotency_key=f"seti:{idempotency_key}").first() if idempotency_key else None
        if existing is not None:  # Stripe answers a repeated key with the first result
            return SetupResult(
                id=existing.pk,
                status=existing.data["status"],
                client_secret=f"{existing.pk}_secret",
                payment_method_id=existing.data["payment_method"] or "",
                customer_id=existing.data["customer"],
            )
        status = "requires_payment_method"
        if payment_method_id and confirm:
            pm = self._get(payment_method_id, "payment_method")
            if pm.data["type"] != method_kind:
                raise PaymentDeclined("This payment method is of another kind.", code="kind_mismatch")
            pm.data["customer"] = customer_id
            pm.save(update_fields=["data"])
            status = "succeeded"
        seti = _new_id("seti")
        Model.objects.create(
            pk=seti,
            kind="setup_intent",
            idempotency_key=f"seti:{idempotency_key}" if idempotency_key else None,
            data=dict(customer=customer_id, status=status, payment_method=payment_method_id or None),
        )
        return SetupResult(
            id=seti,
            status=status,
            client_secret=f"{seti}_secret",
            payment_method_id=payment_method_id,
            customer_id=customer_id,
        )

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupResult:
        d = self._get(setup_intent_id, "setup_intent").data
        return SetupResult(
            id=setup_intent_id,
            status=d["status"],
            client_secret=f"{setup_intent_id}_secret",
            payment_method_id=d.get("payment_method") or "",
            customer_id=d["customer"],
        )

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
        Model = self._model()
        existing = Model.objects.filter(idempotency_key=f"pi:{idempotency_key}").first()
        if existing is not None:  # Stripe answers a repeated key with the first result
            return self._intent(existing)
        pk = _new_id("pi")
        data = dict(
            amount=to_minor_units(amount, currency),
            currency=currency.lower(),
            payment_method_types=[method_kind],
            customer=customer_id or None,
            payment_method=payment_method_id or None,
            metadata=metadata or {},
            status="requires_confirmation" if payment_method_id else "requires_payment_method",
            client_secret=f"{pk}_secret_{secrets.token_hex(8)}",
            last_payment_error=None,
            amount_received=0,
            latest_charge=None,
        )
        try:
            with transaction.atomic():
                obj = Model.objects.create(
                    pk=pk, kind="payment_intent", idempotency_key=f"pi:{idempotency_key}", data=data
                )
        except IntegrityError:  # the same key raced us: answer with the winner
            obj = Model.objects.get(idempotency_key=f"pi:{idempotency_key}")
        return self._intent(obj)

    def retrieve_payment_intent(self, intent_id: str) -> Intent:
        return self._intent(self._get(intent_id, "payment_intent"))

    @transaction.atomic
    def confirm_payment_intent(
        self, intent_id: str, *, payment_method_id: str = "", idempotency_key: str = ""
    ) -> Intent:
        obj = self._get(intent_id, "payment_intent", lock=True)
        d = obj.data
        if d["status"] in ("processing", "succeeded", "canceled"):
            return self._intent(obj)  # confirmed already: a double click changes nothing
        pm = self._get(payment_method_id or d.get("payment_method") or "", "payment_method")
        if pm.data["type"] not in d["payment_method_types"]:
            raise PaymentDeclined("This payment method can't be used for this payment.", code="kind_mismatch")
        d["payment_method"] = pm.pk
        if pm.data.get("decline"):
            d["status"] = "requires_payment_method"
            d["last_payment_error"] = {"code": "card_declined", "message": pm.data["decline"]}
            obj.save(update_fields=["data"])
            self._emit("payment_intent.payment_failed", self._intent_payload(obj))
            raise PaymentDeclined(pm.data["decline"], code="card_declined")
        d["last_payment_error"] = None
        if pm.data["type"] == US_BANK_ACCOUNT:
            d["status"] = "processing"  # a bank debit takes days; settle_ach() ends it
            obj.save(update_fields=["data"])
            self._emit("payment_intent.processing", self._intent_payload(obj))
        else:
            self._succeed(obj)
        return self._intent(obj)

    def _succeed(self, obj) -> None:
        d = obj.data
        d["status"] = "succeeded"
        d["amount_received"] = d["amount"]
        d["latest_charge"] = "ch" + obj.pk[2:]
        obj.save(update_fields=["data"])
        self._emit("payment_intent.succeeded", self._intent_payload(obj))

    @transaction.atomic
    def settle_ach(self, intent_id: str, *, succeed: bool) -> Intent:
        """End a processing bank debit: it settles or the bank returns it (the switch for "days later")."""
        obj = self._get(intent_id, "payment_intent", lock=True)
        if obj.data["status"] != "processing":
            raise GatewayError("Only a processing bank payment can settle or fail.", code="not_processing")
        if succeed:
            self._succeed(obj)
        else:
            pm = self._get(obj.data["payment_method"], "payment_method")
            obj.data["status"] = "requires_payment_method"
            obj.data["last_payment_error"] = {
                "code": "payment_method_failure",
                "message": pm.data.get("ach_failure") or "The bank returned the payment.",
            }
            obj.save(update_fields=["data"])
            self._emit("payment_intent.payment_failed", self._intent_payload(obj))
        return self._intent(obj)

    # Refunds: created pending, then succeeded, as Stripe reports a card refund (refund.created, then
    # refund.updated), and charge.refunded without the charge's refunds list (Stripe no longer expands it).
    @staticmethod
    def _refund_payload(obj) -> dict:
        d = obj.data
        return {
            "id": obj.pk,
            "object": "refund",
            "amount": d["amount"],
            "currency": d["currency"],
            "charge": d["charge"],
            "payment_intent": d["payment_intent"],
            "status": d["status"],
            "failure_reason": d.get("failure_reason"),
            "created": int(obj.created_at.timestamp()),
        }

    @staticmethod
    def _refund_info(obj) -> RefundInfo:
        return refund_from_stripe(SandboxGateway._refund_payload(obj))

    def _emit_charge_refunded(self, intent) -> None:
        d = intent.data
        self._emit(
            "charge.refunded",
            {
                "id": d["latest_charge"],
                "object": "charge",
                "amount": d["amount"],
                "currency": d["currency"],
                "status": "succeeded",
                "payment_intent": intent.pk,
                "amount_refunded": d.get("amount_refunded", 0),
                "refunded": d.get("amount_refunded", 0) == d["amount"],
            },
        )

    @transaction.atomic
    def refund(self, *, intent_id: str, amount: Decimal, currency: str, idempotency_key: str) -> RefundResult:
        Model = self._model()
        existing = Model.objects.filter(idempotency_key=f"re:{idempotency_key}").first()
        if existing is not None:
            d = existing.data
            return RefundResult(
                id=existing.pk,
                status=d.get("status", "succeeded"),
                amount=from_minor_units(d["amount"], currency),
                currency=currency,
            )
        obj = self._get(intent_id, "payment_intent", lock=True)
        d = obj.data
        minor = to_minor_units(amount, currency)
        refunded = d.get("amount_refunded", 0)
        if d["status"] != "succeeded":
            raise PaymentDeclined("Only a succeeded payment can be refunded.", code="not_succeeded")
        if minor <= 0 or refunded + minor > d["amount_received"]:
            raise PaymentDeclined("The refund is larger than what is left of the payment.", code="refund_too_large")
        refund = Model.objects.create(
            pk=_new_id("re"),
            kind="refund",
            idempotency_key=f"re:{idempotency_key}",
            data=dict(
                amount=minor,
                currency=d["currency"],
                payment_intent=obj.pk,
                charge=d["latest_charge"],
                status="pending",
            ),
        )
        d["amount_refunded"] = refunded + minor
        obj.save(update_fields=["data"])
        self._emit("refund.created", self._refund_payload(refund))
        created = self._refund_info(refund)
        refund.data["status"] = "succeeded"
        refund.save(update_fields=["data"])
        self._emit("refund.updated", self._refund_payload(refund))
        self._emit_charge_refunded(obj)
        return RefundResult(id=created.id, status=created.status, amount=created.amount, currency=created.currency)

    def list_refunds(self, *, intent_id: str) -> list[RefundInfo]:
        objs = self._model().objects.filter(kind="refund", data__payment_intent=intent_id).order_by("created_at", "pk")
        return [self._refund_info(obj) for obj in objs]

    @transaction.atomic
    def fail_refund(self, refund_id: str, *, status: str = "failed") -> RefundInfo:
        """The refund did not reach the payer (failed) or was canceled: the money is ours again."""
        if status not in ("failed", "canceled"):
            raise GatewayError("A refund can only fail or be canceled.", code="bad_status")
        refund = self._get(refund_id, "refund", lock=True)
        if refund.data["status"] not in ("pending", "succeeded"):
            raise GatewayError("This refund has failed or was canceled already.", code="refund_final")
        intent = self._get(refund.data["payment_intent"], "payment_intent", lock=True)
        intent.data["amount_refunded"] = intent.data.get("amount_refunded", 0) - refund.data["amount"]
        intent.save(update_fields=["data"])
        refund.data["status"] = status
        refund.data["failure_reason"] = "lost_or_stolen_card" if status == "failed" else None
        refund.save(update_fields=["data"])
        self._emit("refund.updated", self._refund_payload(refund))
        return self._refund_info(refund)

    # Disputes: the payer's bank takes the money back until the dispute is decided.
    DISPUTE_FEE = 1500  # minor units, as Stripe charges per dispute

    @staticmethod
    def _dispute_payload(obj) -> dict:
        return {"id": obj.pk, "object": "dispute", **obj.data}

    @transaction.atomic
    def open_dispute(self, intent_id: str, *, reason: str = "fraudulent", amount: Decimal | None = None) -> str:
        """The payer disputes a succeeded card payment: the disputed amount and the fee are withdrawn."""
        intent = self._get(intent_id, "payment_intent", lock=True)
        d = intent.data
        if d["status"] != "succeeded" or d["payment_method_types"] != [CARD]:
            raise GatewayError("Only a succeeded card payment can be disputed.", code="not_disputable")
        if self._model().objects.filter(kind="dispute", data__payment_intent=intent_id).exists():
            raise GatewayError("This payment is disputed already.", code="already_disputed")
        left = d["amount"] - d.get("amount_refunded", 0)
        minor = to_minor_units(amount, d["currency"].upper()) if amount is not None else left
        if minor <= 0 or minor > left:
            raise GatewayError("The dispute is larger than what is left of the payment.", code="dispute_too_large")
        now = int(time.time())
        obj = self._model().objects.create(
            pk=_new_id("dp"),
            kind="dispute",
            data=dict(
                amount=minor,
                currency=d["currency"],
                charge=d["latest_charge"],
                payment_intent=intent_id,
                reason=reason,
                status="needs_response",
                created=now,
                is_charge_refundable=False,
                evidence_details={"due_by": now + 7 * 86400, "has_evidence": False, "past_due": False},
                balance_transactions=[],
            ),
        )
        self._emit("charge.dispute.created", self._dispute_payload(obj))
        obj.data["balance_transactions"].append(
            {"id": _new_id("txn"), "object": "balance_transaction", "amount": -minor, "fee": self.DISPUTE_FEE,
             "currency": d["currency"], "type": "adjustment"}
        )
        obj.save(update_fields=["data"])
        self._emit("charge.dispute.funds_withdrawn", self._dispute_payload(obj))
        return obj.pk

    @transaction.atomic
    def close_dispute(self, dispute_id: str, *, won: bool) -> None:
        """The bank decided: won reinstates the disputed amount (the fee stays charged), lost keeps it off."""
        obj = self._get(dispute_id, "dispute", lock=True)
        if obj.data["status"] in ("won", "lost"):
            raise GatewayError("This dispute is closed already.", code="dispute_closed")
        obj.data["status"] = "won" if won else "lost"
        if won:
            obj.data["balance_transactions"].append(
                {"id": _new_id("txn"), "object": "balance_transaction", "amount": obj.data["amount"], "fee": 0,
                 "currency": obj.data["currency"], "type": "adjustment"}
            )
        obj.save(update_fields=["data"])
        self._emit("charge.dispute.closed", self._dispute_payload(obj))
        if won:
            self._emit("charge.dispute.funds_reinstated", self._dispute_payload(obj))

    def disputes_of(self, intent_id: str) -> list[dict]:
        objs = self._model().objects.filter(kind="dispute", data__payment_intent=intent_id).order_by("created_at")
        return [self._dispute_payload(obj) for obj in objs]

    # Events
    def take_events(self) -> list[WebhookEvent]:
        """Undelivered events, oldest first, marked delivered (a webhook delivery without HTTP)."""
        with transaction.atomic():
            objs = list(
                self._model()
                .objects.select_for_update(skip_locked=True)
                .filter(kind="event", data__delivered=False)
                .order_by("created_at", "pk")
            )
            for obj in objs:
                obj.data["delivered"] = True
                obj.save(update_fields=["data"])
        events = []
        for obj in objs:
            payload = obj.data["payload"]
            events.append(
                WebhookEvent(id=payload["id"], type=payload["type"], data=payload["data"]["object"], payload=payload)
            )
        return events

    def translate(self, payload: dict) -> PaymentEvent:
        """The sandbox's events are Stripe-shaped: read them as Stripe's are."""
        return translate_stripe_event(payload)

    def parse_webhook(self, *, payload: bytes, signature_header: str) -> WebhookEvent:
        """The sandbox accepts webhooks signed with SANDBOX_WEBHOOK_SECRET, Stripe's scheme."""
        from .stripe_gateway import StripeGateway

        try:
            return StripeGateway(secret_key="", api_base="", webhook_secret=SANDBOX_WEBHOOK_SECRET).parse_webhook(
                payload=payload, signature_header=signature_header
            )
        except (ValueError, json.JSONDecodeError) as exc:
            raise InvalidWebhook("The webhook body is not an event.", code="bad_payload") from exc
