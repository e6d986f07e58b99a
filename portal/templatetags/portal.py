from datetime import date
from functools import lru_cache

from django import template
from django.utils.dateformat import format as date_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from billing.money import format_money

register = template.Library()


@register.filter
def day(value: date | None) -> str:
    """{{ line.date|day }} -> "26 Sep 2026", as `|date:"j M Y"` writes it, for lists of many rows: the rows of
    a page fall on a few days, and Django's date format costs ~50 µs a call."""
    return "" if value is None else _day(value, get_language())


@lru_cache(maxsize=4096)
def _day(value: date, language: str) -> str:
    return date_format(value, "j M Y")


@register.filter
def money(amount, currency):
    """{{ invoice.total|money:invoice.currency }} -> "$1,234.50"."""
    if amount is None or amount == "":
        return ""
    return format_money(amount, currency)


@register.filter
def balance(amount, currency):
    """A signed account balance: 12.50 -> "$12.50", -940 -> "$940.00 credit" (money the account holds)."""
    if amount is None or amount == "":
        return ""
    if amount < 0:
        return f"{format_money(-amount, currency)} credit"
    return format_money(amount, currency)


@register.filter
def less(amount, currency):
    """An amount taken off a figure: 10 -> "−$10.00", 0 -> "$0.00"."""
    if amount is None or amount == "":
        return ""
    return f"−{format_money(amount, currency)}" if amount else format_money(amount, currency)


@register.filter
def filesize(size):
    size = int(size or 0)
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (page links keep the filters)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def page_query(context, param: str, number: int):
    """The current query string with one page parameter (`page`, `accounts`, …) set to `number`."""
    return query_with(context, **{param: number})


@register.filter
def css_string(value) -> str:
    """Text for inside a double-quoted CSS string in a <style> block (PDF page footers).

    CSS escapes are a backslash and hex digits: quotes, backslashes, line breaks and "<" (which could
    close the style element) are escaped that way; everything else is kept as typed.
    """
    out = []
    for char in str(value or ""):
        out.append(f"\\{ord(char):X} " if char in '"\\<>&\n\r' else char)
    return mark_safe("".join(out))


@register.filter
def quantity(value) -> str:
    """3.500 -> "3.5", 2.000 -> "2", 1234.25 -> "1,234.25": as many decimals as the quantity has."""
    from decimal import Decimal

    if value is None or value == "":
        return ""
    number = Decimal(value).normalize()
    whole, _, decimals = format(abs(number), "f").partition(".")
    return ("-" if number < 0 else "") + f"{int(whole):,}" + (f".{decimals}" if decimals else "")
