"""Stripe-shaped events, signed with Stripe's real scheme: v1 = HMAC-SHA256(secret, f"{t}.{payload}")."""

import hashlib
import hmac
import json
import secrets
import time


def signature_header(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event(event_type: str, obj: dict, *, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()


def payment_intent(
    intent_id: str, *, amount: int, status: str, currency: str = "usd", kind: str = "card", failure: str = ""
) -> dict:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": currency,
        "status": status,
        "payment_method_types": [kind],
        "payment_method": f"pm_{intent_id[3:]}",
        "customer": None,
        "metadata": {},
        "client_secret": "",
        "last_payment_error": {"code": "payment_method_failure", "message": failure} if failure else None,
    }


def charge_refunded(
    intent_id: str, *, amount: int, refunds: list[tuple[str, int]], currency: str = "usd"
) -> dict:
    return {
        "id": f"ch_{intent_id[3:]}",
        "object": "charge",
        "amount": amount,
        "currency": currency,
        "payment_intent": intent_id,
        "amount_refunded": sum(r[1] for r in refunds),
        "refunds": {
            "object": "list",
            "data": [
                {
                    "id": rid,
                    "object": "refund",
                    "amount": ramount,
                    "currency": currency,
                    "status": "succeeded",
                    "payment_intent": intent_id,
                }
                for rid, ramount in refunds
            ],
        },
    }


def refund(
    refund_id: str, intent_id: str, *, amount: int, status: str = "succeeded", currency: str = "usd"
) -> dict:
    """A Refund object as refund.created / refund.updated carry it (and as GET /v1/refunds lists it)."""
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": f"txn_{refund_id[3:]}",
        "charge": f"ch_{intent_id[3:]}",
        "created": int(time.time()),
        "currency": currency,
        "failure_reason": "lost_or_stolen_card" if status == "failed" else None,
        "metadata": {},
        "payment_intent": intent_id,
        "reason": None,
        "status": status,
    }


def charge_refunded_unlisted(intent_id: str, *, amount: int, amount_refunded: int, currency: str = "usd") -> dict:
    """charge.refunded as Stripe sends it since API version 2022-11-15: no `refunds` list on the charge."""
    return {
        "id": f"ch_{intent_id[3:]}",
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "currency": currency,
        "payment_intent": intent_id,
        "refunded": amount_refunded == amount,
        "status": "succeeded",
    }


def refund_list(*refunds: dict) -> dict:
    """GET /v1/refunds?payment_intent=… as Stripe answers it."""
    return {"object": "list", "data": list(refunds), "has_more": False, "url": "/v1/refunds"}


def dispute(
    dispute_id: str,
    intent_id: str,
    *,
    amount: int,
    status: str = "needs_response",
    reason: str = "fraudulent",
    fee: int = 1500,
    reinstated: bool = False,
    currency: str = "usd",
    due_by: int | None = None,
) -> dict:
    """A Dispute object as the charge.dispute.* events carry it: balance_transactions hold the withdrawal
    (amount and fee) once the funds are withdrawn, and the reinstatement when won."""
    withdrawn = status not in ("warning_needs_response", "warning_under_review", "warning_closed")
    transactions = []
    if withdrawn:
        transactions.append(
            {"id": f"txn_w{dispute_id[3:]}", "object": "balance_transaction", "amount": -amount - fee,
             "fee": fee, "net": -amount - fee, "currency": currency, "type": "adjustment"}
        )
    if reinstated:
        transactions.append(
            {"id": f"txn_r{dispute_id[3:]}", "object": "balance_transaction", "amount": amount, "fee": 0,
             "net": amount, "currency": currency, "type": "adjustment"}
        )
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": transactions,
        "charge": f"ch_{intent_id[3:]}",
        "created": int(time.time()),
        "currency": currency,
        "evidence_details": {
            "due_by": due_by if due_by is not None else int(time.time()) + 7 * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": intent_id,
        "reason": reason,
        "status": status,
    }
