"""billing.money.parse_money: the one parser every money input goes through."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.money import MoneyFormField, parse_money


@pytest.mark.parametrize(
    ("typed", "currency", "amount"),
    [
        ("1234.56", "USD", Decimal("1234.56")),
        ("1,234.5", "USD", Decimal("1234.50")),
        (" 12 ", "USD", Decimal("12.00")),
        (".5", "EUR", Decimal("0.50")),
        ("-0", "USD", Decimal("0.00")),
        ("+3.10", "USD", Decimal("3.10")),
        ("2.500", "USD", Decimal("2.50")),
        ("1,234", "JPY", Decimal("1234")),
        ("9" * 16 + ".99", "USD", Decimal("9" * 16 + ".99")),
        (Decimal("12.5"), "USD", Decimal("12.50")),
    ],
)
def test_amounts_as_people_write_them_are_read(typed, currency, amount):
    parsed = parse_money(typed, currency)

    assert parsed == amount
    assert parsed.as_tuple().exponent == (0 if currency == "JPY" else -2)
    assert not parsed.is_signed()


@pytest.mark.parametrize(
    ("typed", "code", "message"),
    [
        ("1e26", "invalid_amount", "Enter an amount like 1,234.56."),
        ("1e3", "invalid_amount", "Enter an amount like 1,234.56."),
        ("1E+3", "invalid_amount", "Enter an amount like 1,234.56."),
        ("NaN", "invalid_amount", "Enter an amount like 1,234.56."),
        ("Infinity", "invalid_amount", "Enter an amount like 1,234.56."),
        ("-inf", "invalid_amount", "Enter an amount like 1,234.56."),
        ("12,34", "invalid_amount", "Enter an amount like 1,234.56."),
        ("1,2345.00", "invalid_amount", "Enter an amount like 1,234.56."),
        ("", "invalid_amount", "Enter an amount like 1,234.56."),
        ("-", "invalid_amount", "Enter an amount like 1,234.56."),
        ("lots", "invalid_amount", "Enter an amount like 1,234.56."),
        ("1.234", "too_many_decimals", "Enter at most 2 decimals, like 1,234.56."),
        ("9" * 400, "too_large", "Enter an amount of at most $9,999,999,999,999,999.99."),
        ("1" + "0" * 16, "too_large", "Enter an amount of at most $9,999,999,999,999,999.99."),
        ("x" * 5000, "invalid_amount", "Enter an amount like 1,234.56."),
    ],
)
def test_exotic_or_oversized_amounts_are_refused_with_a_message_in_our_notation(typed, code, message):
    with pytest.raises(ValidationError) as refused:
        parse_money(typed, "USD")

    assert refused.value.code == code
    assert refused.value.messages == [message]


def test_a_currency_without_cents_refuses_decimals_and_shows_its_own_example():
    with pytest.raises(ValidationError) as refused:
        parse_money("12.50", "JPY")

    assert refused.value.messages == ["Enter a whole amount, like 1,234."]


def test_the_form_field_reports_the_parsers_message_and_keeps_its_bounds():
    field = MoneyFormField(min_value=Decimal("0.01"), currency="USD")

    with pytest.raises(ValidationError) as exponent:
        field.clean("1e3")
    with pytest.raises(ValidationError) as zero:
        field.clean("-0")

    assert exponent.value.messages == ["Enter an amount like 1,234.56."]
    assert zero.value.error_list[0].code == "min_value"
    assert field.clean("1,000") == Decimal("1000.00")


def test_model_money_columns_get_the_money_form_field():
    from billing.models import Payment

    assert isinstance(Payment._meta.get_field("amount").formfield(), MoneyFormField)
