"""Money: Decimal only, rounded in one place."""

import re
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

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


MAX_DIGITS = 18  # the one column spec: DecimalField(max_digits=18, decimal_places=2)
DECIMAL_PLACES = 2
# What a person types: digits with optional thousands commas ("1,234.56") or none ("1234.56"), an
# optional sign and decimal point. No exponent ("1e3"), no NaN/Infinity, no decimal comma ("12,34").
_AMOUNT = re.compile(r"(?P<sign>[-+]?)(?P<whole>\d{1,3}(?:,\d{3})+|\d*)(?:\.(?P<frac>\d*))?")


def amount_example(currency: str | None = None) -> str:
    """How an amount is written here: "1,234.56" (or "1,234" in a currency without cents)."""
    places = minor_unit_exponent(currency) if currency else DECIMAL_PLACES
    return f"{Decimal('1234.56'):,.{places}f}" if places else "1,234"


def parse_money(
    text, currency: str | None = None, *, max_digits: int = MAX_DIGITS, decimal_places: int = DECIMAL_PLACES
) -> Decimal:
    """An amount as a person typed it -> Decimal with the currency's decimals; the one money parser.

    Accepts "1234.5", "1,234.50", "-0" (zero). Refuses, with a ValidationError fit to show
    (code invalid_amount / too_many_decimals / too_large): exponent notation, NaN, Infinity, a
    decimal comma, more decimals than the currency has (or the column keeps), more digits than
    the column holds. So nothing past here ever sees 1E+3 or an amount the database would refuse.
    """
    places = min(decimal_places, minor_unit_exponent(currency)) if currency else decimal_places
    if isinstance(text, Decimal):
        text = format(text, "f") if text.is_finite() else "NaN"
    raw = str(text).strip()
    match = _AMOUNT.fullmatch(raw) if len(raw) <= 1000 else None
    if match is None or not (match["whole"] or match["frac"]):
        raise ValidationError(
            _("Enter an amount like %(example)s."), code="invalid_amount", params={"example": amount_example(currency)}
        )
    whole = match["whole"].replace(",", "").lstrip("0")
    frac = match["frac"] or ""
    if len(frac.rstrip("0")) > places:
        message = (
            _("Enter at most %(places)s decimals, like %(example)s.")
            if places
            else _("Enter a whole amount, like %(example)s.")
        )
        raise ValidationError(
            message, code="too_many_decimals", params={"places": places, "example": amount_example(currency)}
        )
    if len(whole) > max_digits - decimal_places:
        largest = Decimal(10) ** (max_digits - decimal_places) - Decimal(1).scaleb(-places)
        shown = format_money(largest, currency) if currency else f"{largest:,.{places}f}"
        raise ValidationError(
            _("Enter an amount of at most %(largest)s."), code="too_large", params={"largest": shown}
        )
    value = Decimal(f"{match['sign']}{whole or '0'}.{frac or '0'}").quantize(Decimal(1).scaleb(-places))
    return value if value else abs(value)  # "-0" is zero, not a negative zero shown as "-$0.00"


class MoneyFormField(forms.DecimalField):
    """Every money input: parsed by `parse_money`, so a typo is a form error, never a 500.

    `currency` (set at construction or later, `field.currency = customer.currency`) narrows the
    decimals to the currency's minor unit; the messages show amounts in that currency.
    """

    widget = forms.TextInput

    def __init__(self, *, currency: str | None = None, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kw):
        self.currency = currency
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kw)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("step", None)
        attrs.setdefault("inputmode", "decimal")
        return attrs

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return parse_money(value, self.currency, max_digits=self.max_digits, decimal_places=self.decimal_places)


class MoneyField(models.DecimalField):
    """The one column spec for amounts; its form field is a MoneyFormField (admin included)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": MoneyFormField, **kwargs})

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs
