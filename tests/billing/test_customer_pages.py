"""Customers and contact persons a page at a time (billing.services.customer_pages): what an import
such as the CRM sync writes through, checked row by row, in a fixed number of queries."""

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import ContactPerson, Customer, Invoice
from billing.selectors import customers_with_transactions
from billing.services import (
    PAGE_LIMIT,
    PageRow,
    delete_contact_persons,
    delete_customers,
    save_contact_person_page,
    save_customer_page,
)
from tests.factories import ContactPersonFactory, CustomerFactory, InvoiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def _new(i: int, **values) -> PageRow:
    return PageRow(
        values={
            "display_name": f"Imported {i:03d}",
            "company_name": f"Imported {i:03d} Ltd",
            "email": f"ap{i}@imported.example",
            "website": f"https://imported{i}.example",
            "payment_terms_days": 30,
            "custom_fields": {"tier": "Gold"},
            "customer_type": Customer.Type.BUSINESS,
            "currency": "EUR",
            "origin": Customer.Origin.CRM,
            **values,
        }
    )


def test_a_page_of_200_customers_is_checked_and_written_in_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    with django_assert_max_num_queries(1) as one:
        save_customer_page(rows=[_new(0)])
    rows = [_new(i) for i in range(1, PAGE_LIMIT + 1)]

    with django_assert_max_num_queries(len(one.captured_queries)):
        result = save_customer_page(rows=rows)

    assert result.problems == {}
    created = Customer.objects.in_bulk(result.pks)
    assert [created[pk].display_name for pk in result.pks] == [f"Imported {i:03d}" for i in range(1, 201)]
    acme = created[result.pks[41]]
    assert (acme.currency, acme.origin, acme.payment_terms_days, acme.custom_fields) == (
        "EUR",
        Customer.Origin.CRM,
        30,
        {"tier": "Gold"},
    )


def test_changes_of_200_customers_cost_a_fixed_number_of_queries(django_assert_max_num_queries):
    customers = CustomerFactory.create_batch(201)
    with django_assert_max_num_queries(3) as one:
        save_customer_page(rows=[PageRow(pk=customers[0].pk, values={"phone": "+1 555 0000"})])

    with django_assert_max_num_queries(len(one.captured_queries)):
        result = save_customer_page(rows=[PageRow(pk=c.pk, values={"phone": "+1 555 0100"}) for c in customers[1:]])

    assert result.pks == [c.pk for c in customers[1:]]
    assert set(Customer.objects.exclude(pk=customers[0].pk).values_list("phone", flat=True)) == {"+1 555 0100"}


def test_a_bad_row_is_refused_with_its_reason_and_the_rest_of_the_page_is_written():
    rows = [
        _new(1),
        _new(2, email="ap@acme"),
        _new(3, display_name=""),
        _new(4, display_name="x" * 256),
        _new(5, payment_terms_days=400),
        _new(6, website="https://-acme.example"),
        _new(7, currency="XXX"),
        _new(8),
    ]

    result = save_customer_page(rows=rows)

    assert result.problems == {
        1: "ap@acme is not a valid email address.",
        2: "A customer needs a display name.",
        3: "Display name is longer than 255 characters.",
        4: "Payment terms 400 is not a number of days between 0 and 365.",
        5: "https://-acme.example is not a valid website address.",
        6: "XXX is not a currency billing uses.",
    }
    assert [pk is not None for pk in result.pks] == [True, False, False, False, False, False, False, True]
    assert sorted(Customer.objects.values_list("display_name", flat=True)) == ["Imported 001", "Imported 008"]


def test_a_change_names_only_the_fields_it_changes_and_stamps_the_customer():
    customer = CustomerFactory(display_name="Acme", phone="+1 000", notes="kept", currency="USD")
    before = customer.updated_at

    save_customer_page(rows=[PageRow(pk=customer.pk, values={"phone": "+1 555"})])

    customer.refresh_from_db()
    assert (customer.display_name, customer.phone, customer.notes) == ("Acme", "+1 555", "kept")
    assert customer.updated_at > before


def test_a_change_of_a_customer_that_is_gone_is_reported_not_written():
    customer = CustomerFactory()
    gone = customer.pk
    customer.delete()

    result = save_customer_page(rows=[PageRow(pk=gone, values={"phone": "+1 555"})])

    assert result.pks == [None] and result.problems == {0: "The customer no longer exists in billing."}


@pytest.mark.parametrize(
    "values",
    [
        {"currency": "EUR"},  # a customer's currency is billing's decision once it exists
        {"parent_id": 1},  # so is the hierarchy
        {"portal_enabled": True},
    ],
)
def test_fields_an_import_may_not_set_are_a_programming_error(values):
    customer = CustomerFactory()

    with pytest.raises(ValueError, match="an import may not set"):
        save_customer_page(rows=[PageRow(pk=customer.pk, values=values)])


def test_more_than_a_page_is_refused():
    with pytest.raises(ValueError, match="at most 200"):
        save_customer_page(rows=[_new(i) for i in range(PAGE_LIMIT + 1)])
    assert not Customer.objects.exists()


def test_new_contact_persons_the_first_becomes_primary_and_a_moved_one_is_not_primary_at_its_new_customer(
    django_assert_max_num_queries,
):
    acme, other = CustomerFactory(), CustomerFactory()
    ContactPersonFactory(customer=other, is_primary=True, first_name="Boss")
    moving = ContactPersonFactory(customer=acme, is_primary=True, first_name="Mover")

    with django_assert_max_num_queries(4):
        result = save_contact_person_page(
            rows=[
                PageRow(values={"customer_id": acme.pk, "first_name": "Wile", "email": "wile@acme.example"}),
                PageRow(values={"customer_id": acme.pk, "first_name": "Road"}),
                PageRow(pk=moving.pk, values={"customer_id": other.pk, "first_name": "Mover"}),
            ]
        )

    assert result.problems == {}
    wile, road = ContactPerson.objects.get(pk=result.pks[0]), ContactPerson.objects.get(pk=result.pks[1])
    moving.refresh_from_db()
    assert (wile.is_primary, road.is_primary) == (False, False)  # acme still had Mover as primary…
    assert (moving.customer, moving.is_primary) == (other, False)  # …who moved and left it without one
    assert ContactPerson.objects.get(customer=other, is_primary=True).first_name == "Boss"


def test_a_first_contact_person_becomes_the_primary_contact():
    acme = CustomerFactory()

    result = save_contact_person_page(
        rows=[PageRow(values={"customer_id": acme.pk, "first_name": n}) for n in ("Ada", "Grace")]
    )

    assert [ContactPerson.objects.get(pk=pk).is_primary for pk in result.pks] == [True, False]


def test_a_contact_person_without_a_name_or_customer_is_refused():
    acme = CustomerFactory()
    gone = CustomerFactory()
    gone_pk = gone.pk
    gone.delete()

    result = save_contact_person_page(
        rows=[
            PageRow(values={"customer_id": acme.pk, "first_name": ""}),
            PageRow(values={"customer_id": gone_pk, "first_name": "Lost"}),
            PageRow(values={"customer_id": acme.pk, "first_name": "Ok", "email": "not-an-email"}),
        ]
    )

    assert result.problems == {
        0: "A contact person needs a name.",
        1: "The contact person's customer no longer exists in billing.",
        2: "not-an-email is not a valid email address.",
    }
    assert not ContactPerson.objects.exists()


def _invoice(customer):
    return Invoice.objects.create(
        customer=customer,
        number=f"INV-{customer.pk:05d}",
        currency="USD",
        issued_on=dt.date(2026, 11, 1),
        due_on=dt.date(2026, 12, 1),
    )


def test_has_transactions_is_generic_over_ledger_relations():
    with_invoice, plain = CustomerFactory(), CustomerFactory()
    _invoice(with_invoice)

    assert customers_with_transactions(customer_ids=[with_invoice.pk, plain.pk]) == {with_invoice.pk}


def test_deleting_customers_keeps_those_with_transactions_or_branches():
    billed = InvoiceFactory(total=Decimal("10.00")).customer
    parent = CustomerFactory()
    CustomerFactory(parent=parent)
    plain = CustomerFactory()
    ContactPersonFactory(customer=plain)

    removal = delete_customers(customer_ids=[billed.pk, parent.pk, plain.pk, 999_999])

    assert removal.deleted == {plain.pk}
    assert (removal.kept_with_transactions, removal.kept_with_branches) == ({billed.pk}, {parent.pk})
    assert not Customer.objects.filter(pk=plain.pk).exists()
    assert not ContactPerson.objects.filter(customer_id=plain.pk).exists()


def test_deleting_contact_persons_keeps_those_with_a_portal_login():
    plain = ContactPersonFactory(user=None, portal_enabled=False)
    portal = ContactPersonFactory(user=UserFactory())

    removal = delete_contact_persons(contact_ids=[plain.pk, portal.pk])

    assert (removal.deleted, removal.kept_with_login) == ({plain.pk}, {portal.pk})
    assert list(ContactPerson.objects.values_list("pk", flat=True)) == [portal.pk]
