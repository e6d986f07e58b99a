"""Money: Decimal only, rounded in one place."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import models

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
# Currencies we bill in. Others have cents; a 3-decimal currency needs a wider column first.
CURRENCY_CHOICES = [
    ("USD", "USD — US dollar"),
    ("EUR", "EUR — Euro"),
    ("GBP", "GBP — Pound sterling"),
    ("INR", "INR — Indian rupee"),
    ("CAD", "CAD — Canadian dollar"),
    ("AUD", "AUD — Australian dollar"),
    ("JPY", "JPY — Japanese yen"),
]
_MINOR_UNITS = {"JPY": 0, "KRW": 0}
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


def minor_unit_exponent(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's smallest unit, half up. The only place money is rounded."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(amount).__name__}")
    return amount.quantize(Decimal(1).scaleb(-minor_unit_exponent(currency)), rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """12.34 USD -> 1234, the integer the gateway wants."""
    return int(quantize(amount, currency).scaleb(minor_unit_exponent(currency)))


def from_minor_units(value: int, currency: str) -> Decimal:
    """1234 -> Decimal('12.34') for USD."""
    return quantize(Decimal(value).scaleb(-minor_unit_exponent(currency)), currency)


def is_whole_minor_units(amount: Decimal, currency: str) -> bool:
    """12.34 USD yes, 12.345 USD no: what every service accepts as an amount or a rate."""
    return amount == quantize(amount, currency)


def format_money(amount: Decimal | None, currency: str) -> str:
    """1234.5 USD -> '$1,234.50'; negative amounts keep the sign before the symbol."""
    if amount is None:
        return ""
    value = quantize(Decimal(amount), currency)
    digits = minor_unit_exponent(currency)
    sign = "-" if value < 0 else ""
    symbol = _SYMBOLS.get(currency, currency + " ")
    return f"{sign}{symbol}{abs(value):,.{digits}f}"


class MoneyField(models.DecimalField):
    """The one column spec for amounts."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs
