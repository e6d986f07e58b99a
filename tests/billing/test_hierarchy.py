"""Hierarchy rules: only Business customers link, no loops, one currency per tree."""

import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from billing.models import Customer
from billing.selectors import customer_subtree, hierarchy_root, hierarchy_rows
from billing.services import link_to_parent, unlink_from_parent
from tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def _codes(refused, field):
    return [error.code for error in refused.value.error_dict[field]]


def test_a_business_customer_becomes_a_branch_of_another_business():
    head = CustomerFactory(display_name="Head Office")
    branch = CustomerFactory(display_name="Chicago")

    link_to_parent(customer=branch, parent=head, allow_parent_access=False)

    branch.refresh_from_db()
    assert branch.parent == head
    assert branch.allow_parent_access is False


def test_an_individual_cannot_be_a_parent_and_nothing_is_written():
    person = CustomerFactory(display_name="Jo Bloggs", customer_type=Customer.Type.INDIVIDUAL)
    branch = CustomerFactory()

    with pytest.raises(ValidationError) as refused:
        link_to_parent(customer=branch, parent=person)

    assert _codes(refused, "parent") == ["parent_not_business"]
    assert "Jo Bloggs is an Individual customer" in refused.value.message_dict["parent"][0]
    branch.refresh_from_db()
    assert branch.parent is None


def test_an_individual_cannot_be_a_branch():
    head = CustomerFactory()
    person = CustomerFactory(customer_type=Customer.Type.INDIVIDUAL)

    with pytest.raises(ValidationError) as refused:
        link_to_parent(customer=person, parent=head)

    assert _codes(refused, "parent") == ["child_not_business"]
    person.refresh_from_db()
    assert person.parent is None


def test_a_customer_cannot_be_its_own_parent():
    head = CustomerFactory()

    with pytest.raises(ValidationError) as refused:
        link_to_parent(customer=head, parent=head)

    assert _codes(refused, "parent") == ["cycle"]
    head.refresh_from_db()
    assert head.parent is None


def test_linking_a_customer_below_its_own_grandchild_is_refused_as_a_loop():
    top = CustomerFactory(display_name="Top")
    middle = CustomerFactory(display_name="Middle", parent=top)
    bottom = CustomerFactory(display_name="Bottom", parent=middle)

    with pytest.raises(ValidationError) as refused:
        link_to_parent(customer=top, parent=bottom)

    assert _codes(refused, "parent") == ["cycle"]
    assert refused.value.message_dict["parent"] == [
        "Bottom is already below Top in the hierarchy; linking them would make a loop."
    ]
    top.refresh_from_db()
    assert top.parent is None


def test_a_branch_in_another_currency_is_refused_with_the_parents_currency_named():
    head = CustomerFactory(display_name="Head Office", currency="USD")
    branch = CustomerFactory(currency="EUR")

    with pytest.raises(ValidationError) as refused:
        link_to_parent(customer=branch, parent=head)

    assert _codes(refused, "currency") == ["currency_differs_from_parent"]
    assert refused.value.message_dict["currency"] == [
        "A branch bills in its parent's currency: Head Office uses USD."
    ]
    branch.refresh_from_db()
    assert branch.parent is None


def test_a_parent_with_branches_cannot_become_an_individual():
    head = CustomerFactory()
    CustomerFactory(parent=head)
    head.customer_type = Customer.Type.INDIVIDUAL

    with pytest.raises(ValidationError) as refused:
        head.full_clean()

    assert _codes(refused, "customer_type") == ["has_branches"]


def test_a_parent_cannot_change_currency_while_its_branches_use_the_old_one():
    head = CustomerFactory(currency="USD")
    CustomerFactory(parent=head, currency="USD")
    head.currency = "EUR"

    with pytest.raises(ValidationError) as refused:
        head.full_clean()

    assert _codes(refused, "currency") == ["currency_differs_from_children"]


def test_unlinking_a_branch_keeps_its_invoices():
    head = CustomerFactory()
    branch = CustomerFactory(parent=head)
    invoice = InvoiceFactory(customer=branch, total=Decimal("120.00"))

    unlink_from_parent(customer=branch)

    branch.refresh_from_db()
    assert branch.parent is None
    assert list(branch.invoices.all()) == [invoice]
    assert branch.invoices.get().balance_due == Decimal("120.00")
    assert Customer.objects.filter(pk=head.pk).exists()


def test_hierarchy_rows_list_the_whole_tree_with_depth_including_unshared_branches():
    head = CustomerFactory(display_name="Head")
    north = CustomerFactory(display_name="North", parent=head, allow_parent_access=False)
    north_shop = CustomerFactory(display_name="North shop", parent=north)
    south = CustomerFactory(display_name="South", parent=head)

    rows = hierarchy_rows(root_id=head.pk)

    assert [(depth, node.display_name) for depth, node in rows] == [
        (0, "Head"), (1, "North"), (2, "North shop"), (1, "South"),
    ]
    assert hierarchy_root(customer=north_shop) == head
    assert set(customer_subtree(customer_id=north.pk)) == {north, north_shop}
    assert south in {node for _depth, node in rows}


def test_hierarchy_rows_cost_one_query_however_wide(django_assert_num_queries):
    head = CustomerFactory()
    CustomerFactory.create_batch(50, parent=head)

    with django_assert_num_queries(1):
        rows = hierarchy_rows(root_id=head.pk)

    assert len(rows) == 51


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_links_that_together_make_a_loop_cannot_both_succeed():
    # Y is below P and Q is below X. Linking X under Y and, at the same time, P under Q
    # touches four different rows; together they would close the loop X→Y→P→Q→X.
    x, p = CustomerFactory(display_name="X"), CustomerFactory(display_name="P")
    y = CustomerFactory(display_name="Y", parent=p)
    q = CustomerFactory(display_name="Q", parent=x)
    first_linked = threading.Event()
    outcomes: dict[str, str] = {}

    def link_x_under_y_and_hold():
        try:
            with transaction.atomic():
                link_to_parent(customer=x, parent=y)
                first_linked.set()
                time.sleep(0.5)  # still uncommitted while the other link runs
            outcomes["first"] = "linked"
        finally:
            first_linked.set()
            connection.close()

    def link_p_under_q():
        first_linked.wait(5)
        try:
            link_to_parent(customer=p, parent=q)
            outcomes["second"] = "linked"
        except ValidationError as exc:
            outcomes["second"] = exc.error_dict["parent"][0].code
        finally:
            connection.close()

    threads = [threading.Thread(target=link_x_under_y_and_hold), threading.Thread(target=link_p_under_q)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert outcomes == {"first": "linked", "second": "cycle"}
    assert Customer.objects.get(pk=p.pk).parent is None
