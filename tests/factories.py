"""Factories: valid by default, amounts written out. Ledger factories live beside these."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from billing.models import ContactPerson, Customer, CustomerGroup, Item, PriceList, PriceListItem

PORTAL_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    username = factory.SelfAttribute("email")
    password = factory.django.Password(PORTAL_PASSWORD)


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    name = factory.Sequence(lambda n: f"Price list {n}")
    kind = PriceList.Kind.PERCENTAGE
    percentage = Decimal("0.00")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    name = factory.Sequence(lambda n: f"Item {n}")
    unit = "hour"
    rate = Decimal("100.00")


class PriceListItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceListItem

    price_list = factory.SubFactory(PriceListFactory, kind=PriceList.Kind.PER_ITEM)
    item = factory.SubFactory(ItemFactory)
    currency = "USD"
    rate = Decimal("90.00")


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup

    name = factory.Sequence(lambda n: f"Group {n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    display_name = factory.Sequence(lambda n: f"Customer {n:04d}")
    company_name = factory.SelfAttribute("display_name")
    customer_type = Customer.Type.BUSINESS
    currency = "USD"
    email = factory.Sequence(lambda n: f"accounts{n}@customer.example")
    portal_enabled = True


class ContactPersonFactory(factory.django.DjangoModelFactory):
    """A contact with a working portal login (password PORTAL_PASSWORD)."""

    class Meta:
        model = ContactPerson

    customer = factory.SubFactory(CustomerFactory)
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Example"
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    is_primary = True
    portal_enabled = True
    user = factory.SubFactory(UserFactory, email=factory.SelfAttribute("..email"))
