"""effective_price: the one place a customer's unit rate for an item is decided."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Organisation, PriceList
from billing.selectors import effective_price
from tests.factories import (
    CustomerFactory,
    CustomerGroupFactory,
    ItemFactory,
    PriceListFactory,
    PriceListItemFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return ItemFactory(name="Network audit", rate=Decimal("199.99"))


def test_without_any_price_list_the_item_rate_applies(item):
    assert effective_price(customer=CustomerFactory(), item=item) == Decimal("199.99")


def test_a_percentage_markup_raises_the_rate_and_rounds_half_up_once(item):
    markup = PriceListFactory(percentage=Decimal("12.50"))
    customer = CustomerFactory(price_list=markup)

    # 199.99 × 1.125 = 224.98875
    assert effective_price(customer=customer, item=item) == Decimal("224.99")


def test_a_percentage_markdown_from_the_group_lowers_the_rate(item):
    group = CustomerGroupFactory(price_list=PriceListFactory(percentage=Decimal("-15")))
    customer = CustomerFactory(group=group)

    # 199.99 × 0.85 = 169.9915
    assert effective_price(customer=customer, item=item) == Decimal("169.99")


def test_a_per_item_list_uses_the_listed_rate_in_the_customers_currency(item):
    listed = PriceListItemFactory(item=item, currency="USD", rate=Decimal("150.00"))
    customer = CustomerFactory(price_list=listed.price_list)

    assert effective_price(customer=customer, item=item) == Decimal("150.00")


def test_a_per_item_list_falls_back_to_the_item_rate_for_items_it_does_not_list(item):
    listed = PriceListItemFactory(rate=Decimal("10.00"))  # another item
    customer = CustomerFactory(price_list=listed.price_list)

    assert effective_price(customer=customer, item=item) == Decimal("199.99")


def test_a_per_item_rate_in_a_foreign_currency_is_used_for_customers_in_that_currency(item):
    listed = PriceListItemFactory(item=item, currency="EUR", rate=Decimal("180.00"))
    customer = CustomerFactory(currency="EUR", price_list=listed.price_list)

    assert effective_price(customer=customer, item=item) == Decimal("180.00")


def test_a_foreign_currency_customer_without_a_listed_rate_is_refused_not_converted(item):
    per_item = PriceListFactory(name="Euro list", kind=PriceList.Kind.PER_ITEM)
    customer = CustomerFactory(currency="EUR", price_list=per_item)

    with pytest.raises(ValidationError) as refused:
        effective_price(customer=customer, item=item)

    assert refused.value.code == "no_rate_in_currency"
    assert refused.value.messages == [
        "Network audit has no rate in EUR. Add one to the price list Euro list."
    ]


def test_a_foreign_currency_customer_without_any_price_list_is_told_to_assign_one(item):
    customer = CustomerFactory(currency="GBP")

    with pytest.raises(ValidationError) as refused:
        effective_price(customer=customer, item=item)

    assert refused.value.messages == [
        "Network audit has no rate in GBP. Give this customer a per-item price list with a GBP rate."
    ]


def test_the_organisation_default_price_list_applies_when_customer_and_group_have_none(item):
    organisation = Organisation.current()
    organisation.default_price_list = PriceListFactory(percentage=Decimal("10"))
    organisation.save()

    assert effective_price(customer=CustomerFactory(), item=item) == Decimal("219.99")
