"""Effective terms and prices: customer override, else group, else organisation default."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from billing.models import Customer, Item, Organisation, PriceList, PriceListItem
from billing.money import HUNDRED, quantize


@dataclass(frozen=True)
class EffectiveTerms:
    payment_terms_days: int
    payment_terms_source: str
    discount_percent: Decimal
    discount_source: str
    price_list: PriceList | None
    price_list_source: str


def _pick(customer_value, group_value, default_value):
    if customer_value is not None:
        return customer_value, "customer"
    if group_value is not None:
        return group_value, "group"
    return default_value, "organisation"


def effective_terms(*, customer: Customer, organisation: Organisation | None = None) -> EffectiveTerms:
    """The terms that apply to this customer now. The one place the override order lives."""
    organisation = organisation or Organisation.current()
    group = customer.group
    terms, terms_source = _pick(
        customer.payment_terms_days, group and group.payment_terms_days,
        organisation.default_payment_terms_days,
    )
    discount, discount_source = _pick(
        customer.discount_percent, group and group.discount_percent, organisation.default_discount_percent
    )
    price_list, price_list_source = _pick(
        customer.price_list, group and group.price_list, organisation.default_price_list
    )
    return EffectiveTerms(
        payment_terms_days=terms,
        payment_terms_source=terms_source,
        discount_percent=Decimal(discount),
        discount_source=discount_source,
        price_list=price_list,
        price_list_source=price_list_source,
    )


def effective_price(*, customer: Customer, item: Item, organisation: Organisation | None = None) -> Decimal:
    """The unit rate this customer pays for `item`, in the customer's currency, rounded once.

    Percentage price lists move the item's base rate; per-item price lists name the rate per
    currency and fall back to the base rate for items they do not list. An item whose only
    rate is in another currency raises ValidationError (we never convert silently).
    """
    organisation = organisation or Organisation.current()
    price_list = effective_terms(customer=customer, organisation=organisation).price_list
    currency = customer.currency
    if price_list is not None and price_list.kind == PriceList.Kind.PER_ITEM:
        listed = PriceListItem.objects.filter(price_list=price_list, item=item, currency=currency).first()
        if listed is not None:
            return quantize(listed.rate, currency)
    if currency != organisation.base_currency:
        params = {"item": item.name, "cur": currency}
        if price_list is not None and price_list.kind == PriceList.Kind.PER_ITEM:
            message = _("%(item)s has no rate in %(cur)s. Add one to the price list %(list)s.")
            params["list"] = price_list.name
        else:
            message = _("%(item)s has no rate in %(cur)s. "
                        "Give this customer a per-item price list with a %(cur)s rate.")
        raise ValidationError(message, code="no_rate_in_currency", params=params)
    rate = item.rate
    if price_list is not None and price_list.kind == PriceList.Kind.PERCENTAGE:
        rate = rate * (HUNDRED + price_list.percentage) / HUNDRED
    return quantize(rate, currency)
