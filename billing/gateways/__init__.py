"""Payment gateways behind one interface. Services call `get_gateway()`; nothing else imports stripe."""

from django.conf import settings

from .base import (
    CARD,
    US_BANK_ACCOUNT,
    DisputeInfo,
    EventKind,
    Gateway,
    GatewayError,
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


def get_gateway(name: str | None = None) -> Gateway:
    """The gateway named by settings.PAYMENT_GATEWAY ("stripe" or "sandbox"), or by `name`."""
    name = name or settings.PAYMENT_GATEWAY
    if name == "stripe":
        from .stripe_gateway import StripeGateway

        return StripeGateway()
    if name == "sandbox":
        from .sandbox import SandboxGateway

        return SandboxGateway()
    raise ValueError(f"Unknown PAYMENT_GATEWAY {name!r}: use 'stripe' or 'sandbox'.")


__all__ = [
    "CARD",
    "US_BANK_ACCOUNT",
    "DisputeInfo",
    "EventKind",
    "Gateway",
    "GatewayError",
    "GatewayUnavailable",
    "Intent",
    "InvalidWebhook",
    "MethodDetails",
    "PaymentDeclined",
    "PaymentEvent",
    "RefundInfo",
    "RefundResult",
    "SetupResult",
    "WebhookEvent",
    "get_gateway",
]
