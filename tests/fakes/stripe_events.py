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
