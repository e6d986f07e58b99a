"""Stripe responses for a US bank account (ACH) payment, in the shape Stripe's API returns them.

localstripe does not implement us_bank_account, so these recorded shapes stand in for it.
"""

INTENT_ID = "pi_3QachRecorded0001"
METHOD_ID = "pm_1QachRecordedBank"
CUSTOMER_ID = "cus_RachRecorded01"


def _intent(status: str, *, amount: int = 12000, error: dict | None = None) -> dict:
    return {
        "id": INTENT_ID,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount if status == "succeeded" else 0,
        "capture_method": "automatic",
        "client_secret": f"{INTENT_ID}_secret_abc123",
        "confirmation_method": "automatic",
        "created": 1764000000,
        "currency": "usd",
        "customer": CUSTOMER_ID,
        "last_payment_error": error,
        "latest_charge": "py_3QachRecorded0001" if status in ("processing", "succeeded") else None,
        "livemode": False,
        "metadata": {},
        "next_action": None,
        "payment_method": METHOD_ID if status != "requires_payment_method" or error else None,
        "payment_method_options": {"us_bank_account": {"verification_method": "automatic"}},
        "payment_method_types": ["us_bank_account"],
        "status": status,
    }


CREATED = _intent("requires_payment_method")
CONFIRMABLE = _intent("requires_confirmation")
PROCESSING = _intent("processing")
SUCCEEDED = _intent("succeeded")
FAILED = _intent(
    "requires_payment_method",
    error={
        "code": "payment_method_insufficient_funds",
        "type": "invalid_request_error",
        "message": "The customer's bank account has insufficient funds to cover this payment.",
        "payment_method": {"id": METHOD_ID, "type": "us_bank_account"},
    },
)

BANK_METHOD = {
    "id": METHOD_ID,
    "object": "payment_method",
    "type": "us_bank_account",
    "customer": CUSTOMER_ID,
    "billing_details": {"email": "ap@northwind.example", "name": "Northwind HQ"},
    "created": 1764000000,
    "livemode": False,
    "metadata": {},
    "us_bank_account": {
        "account_holder_type": "company",
        "account_type": "checking",
        "bank_name": "STRIPE TEST BANK",
        "fingerprint": "FFDMA0xfhBjWSZLu",
        "last4": "6789",
        "routing_number": "110000000",
    },
}
