"""The hierarchy page of a parent with many branches: a page of them at a time, the consolidated figure over
all, and the same queries for 5 branches or 150. Size and timing at 1,000 branches: bench/admin_search.py."""

import pytest
from django.urls import reverse

from billing.models import Customer
from billing.selectors import hierarchy_page
from tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def _wide_tree(branches: int) -> Customer:
    head = CustomerFactory(display_name="Bench Holdings")
    for n in range(branches):
        branch = CustomerFactory(display_name=f"Branch {n:04d}", parent=head)
        InvoiceFactory(customer=branch)
    return head


def test_a_parent_with_more_than_a_page_of_branches_lists_them_a_page_at_a_time(staff):
    head = _wide_tree(150)
    url = reverse("admin:billing_customer_hierarchy", args=[head.pk])

    first = staff.get(url)
    second = staff.get(f"{url}?branches-of-{head.pk}=2")

    names = [row["node"].display_name for row in first.context["rows"] if "node" in row]
    assert names == ["Bench Holdings", *(f"Branch {n:04d}" for n in range(100))]
    pager = first.context["rows"][-1]["pager"]
    assert (pager["first"], pager["last"], pager["count"], pager["previous"]) == (1, 100, 150, None)
    assert pager["next"] == f"?branches-of-{head.pk}=2#branches-{head.pk}"
    assert "Branches 1–100 of 150 of Bench Holdings." in first.content.decode()
    names = [row["node"].display_name for row in second.context["rows"] if "node" in row]
    assert names == ["Bench Holdings", *(f"Branch {n:04d}" for n in range(100, 150))]
    # the consolidated figure still covers every branch, shown or not
    assert first.context["total"] == second.context["total"] == "$15,000.00"


def test_a_branchs_hierarchy_page_opens_on_the_page_that_lists_it(staff):
    head = _wide_tree(150)
    branch = Customer.objects.get(display_name="Branch 0120")

    response = staff.get(reverse("admin:billing_customer_hierarchy", args=[branch.pk]))

    current = [row["node"] for row in response.context["rows"] if "node" in row and row["node"] == branch]
    assert current == [branch]
    assert response.context["rows"][-1]["pager"]["first"] == 101
    assert response.context["rows"][0]["node"] == head  # the root is still the first row


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99", "1" * 40])
def test_a_bad_branch_page_shows_the_first_or_last_page(staff, page):
    head = _wide_tree(101)

    response = staff.get(reverse("admin:billing_customer_hierarchy", args=[head.pk]) + f"?branches-of-{head.pk}={page}")

    assert response.status_code == 200
    assert response.context["rows"][-1]["pager"]["first"] in (1, 101)


@pytest.mark.parametrize("branches", [5, 150])
def test_the_hierarchy_page_of_a_wide_tree_costs_the_same_queries(staff, branches, django_assert_num_queries):
    head = _wide_tree(branches)
    url = reverse("admin:billing_customer_hierarchy", args=[head.pk])
    staff.get(url)

    # session, user, the customer, the tree, the outstanding figures
    with django_assert_num_queries(5):
        response = staff.get(url)

    assert len([row for row in response.context["rows"] if "node" in row]) == 1 + min(branches, 100)


def test_pages_of_branches_at_two_levels_keep_each_others_page():
    head = CustomerFactory(display_name="Head")
    for n in range(3):
        CustomerFactory(display_name=f"Region {n}", parent=head)
    region = Customer.objects.get(display_name="Region 1")
    for n in range(5):
        CustomerFactory(display_name=f"Shop {n}", parent=region)

    tree = hierarchy_page(root_id=head.pk, pages={head.pk: "2", region.pk: "2"}, per_page=2)

    shown = [(depth, getattr(item, "display_name", None) or f"page {item.page.number}") for depth, item in tree.rows]
    assert shown == [
        (0, "Head"),
        (1, "Region 2"),
        (1, "page 2"),
    ]
    tree = hierarchy_page(root_id=head.pk, pages={region.pk: "3"}, per_page=2)
    shown = [(depth, getattr(item, "display_name", None) or f"page {item.page.number}") for depth, item in tree.rows]
    assert shown == [
        (0, "Head"),
        (1, "Region 0"),
        (1, "Region 1"),
        (2, "Shop 4"),
        (2, "page 3"),
        (1, "page 1"),
    ]
    assert len(tree.outstanding) == 9
