"""Customer groups: members read the group's terms live; their own overrides win."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Customer, Organisation
from billing.selectors import effective_terms
from billing.services import add_customers_to_group, remove_customers_from_group
from tests.factories import CustomerFactory, CustomerGroupFactory, PriceListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation():
    organisation = Organisation.current()
    organisation.default_payment_terms_days = 30
    organisation.default_discount_percent = Decimal("0.00")
    organisation.default_price_list = PriceListFactory(name="Standard")
    organisation.save()
    return organisation


@pytest.fixture
def resellers():
    reseller_prices = PriceListFactory(name="Reseller prices", percentage=Decimal("-20"))
    return CustomerGroupFactory(name="Resellers", payment_terms_days=45, discount_percent=Decimal("12.50"),
                                price_list=reseller_prices)


def _terms(customer):
    return effective_terms(customer=Customer.objects.get(pk=customer.pk))


def test_a_customer_without_a_group_gets_the_organisation_defaults(organisation):
    customer = CustomerFactory()

    terms = _terms(customer)

    assert (terms.payment_terms_days, terms.discount_percent) == (30, Decimal("0.00"))
    assert terms.price_list.name == "Standard"
    assert {terms.payment_terms_source, terms.discount_source, terms.price_list_source} == {"organisation"}


def test_a_new_member_gets_the_groups_terms_at_once(organisation, resellers):
    customer = CustomerFactory()

    add_customers_to_group(customer_ids=[customer.pk], group=resellers)

    terms = _terms(customer)
    assert (terms.payment_terms_days, terms.discount_percent) == (45, Decimal("12.50"))
    assert terms.price_list.name == "Reseller prices"
    assert {terms.payment_terms_source, terms.discount_source, terms.price_list_source} == {"group"}


def test_editing_the_group_changes_every_member_that_does_not_override(organisation, resellers):
    plain = CustomerFactory.create_batch(3, group=resellers)
    overriding = CustomerFactory(group=resellers, payment_terms_days=7)

    resellers.payment_terms_days = 60
    resellers.save()

    assert [_terms(c).payment_terms_days for c in plain] == [60, 60, 60]
    assert _terms(overriding).payment_terms_days == 7
    assert _terms(overriding).payment_terms_source == "customer"


def test_a_customer_override_wins_over_the_group_field_by_field(organisation, resellers):
    own_list = PriceListFactory(name="Negotiated")
    customer = CustomerFactory(group=resellers, discount_percent=Decimal("0.00"), price_list=own_list)

    terms = _terms(customer)

    assert (terms.discount_percent, terms.discount_source) == (Decimal("0.00"), "customer")
    assert (terms.price_list, terms.price_list_source) == (own_list, "customer")
    assert (terms.payment_terms_days, terms.payment_terms_source) == (45, "group")


def test_a_group_field_left_empty_falls_back_to_the_organisation_default(organisation):
    group = CustomerGroupFactory(name="Direct", payment_terms_days=None, discount_percent=Decimal("5.00"))
    customer = CustomerFactory(group=group)

    terms = _terms(customer)

    assert (terms.payment_terms_days, terms.payment_terms_source) == (30, "organisation")
    assert (terms.discount_percent, terms.discount_source) == (Decimal("5.00"), "group")


def test_leaving_the_group_returns_the_member_to_the_organisation_defaults(organisation, resellers):
    customer = CustomerFactory(group=resellers)

    removed = remove_customers_from_group(customer_ids=[customer.pk])

    assert removed == 1
    assert _terms(customer).payment_terms_days == 30


def test_adding_more_than_fifty_customers_to_a_group_is_refused_and_nobody_moves(resellers):
    customers = CustomerFactory.create_batch(51)

    with pytest.raises(ValidationError) as refused:
        add_customers_to_group(customer_ids=[c.pk for c in customers], group=resellers)

    assert refused.value.code == "too_many_selected"
    assert refused.value.messages == ["Select at most 50 customers at a time; 51 were selected."]
    assert not Customer.objects.filter(group=resellers).exists()


def test_adding_to_a_group_counts_only_customers_that_changed_group(resellers):
    already = CustomerFactory(group=resellers)
    joining = CustomerFactory()

    changed = add_customers_to_group(customer_ids=[already.pk, joining.pk], group=resellers)

    assert changed == 1
    assert Customer.objects.filter(group=resellers).count() == 2
