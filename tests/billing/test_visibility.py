"""visible_customers: the one selector every portal query starts from."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db.models import F

from billing.models import Customer
from billing.selectors import customers_under, visible_customers
from billing.selectors.customers import visible_customer_rows, visible_root
from billing.selectors.sql import IdIn, Ids
from billing.services import disable_portal_access
from tests.factories import ContactPersonFactory, CustomerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def _names(queryset):
    return sorted(queryset.values_list("display_name", flat=True))


@pytest.fixture
def three_levels():
    """Head office → Chicago (not shared with the parent) → Chicago Loop; Head office → Boston."""
    head = CustomerFactory(display_name="Head office")
    chicago = CustomerFactory(display_name="Chicago", parent=head, allow_parent_access=False)
    loop = CustomerFactory(display_name="Chicago Loop", parent=chicago)
    boston = CustomerFactory(display_name="Boston", parent=head)
    return head, chicago, loop, boston


def test_the_head_office_sees_shared_branches_but_not_an_unshared_branch_or_what_is_below_it(three_levels):
    head, _chicago, _loop, _boston = three_levels
    contact = ContactPersonFactory(customer=head)

    visible = visible_customers(user=contact.user)

    assert _names(visible) == ["Boston", "Head office"]


def test_the_unshared_middle_branch_contact_sees_its_own_subtree(three_levels):
    _head, chicago, _loop, _boston = three_levels
    contact = ContactPersonFactory(customer=chicago)

    visible = visible_customers(user=contact.user)

    assert _names(visible) == ["Chicago", "Chicago Loop"]


def test_a_leaf_branch_contact_sees_only_its_own_customer(three_levels):
    _head, _chicago, _loop, boston = three_levels
    contact = ContactPersonFactory(customer=boston)

    assert _names(visible_customers(user=contact.user)) == ["Boston"]


def test_a_contact_whose_portal_access_was_disabled_sees_nothing(three_levels):
    head = three_levels[0]
    contact = ContactPersonFactory(customer=head)
    disable_portal_access(contact=contact)

    user = get_user_model().objects.get(pk=contact.user_id)

    assert not visible_customers(user=user).exists()


def test_a_contact_flagged_without_portal_access_sees_nothing_even_with_an_active_login(three_levels):
    contact = ContactPersonFactory(customer=three_levels[0], portal_enabled=False)

    assert not visible_customers(user=contact.user).exists()


def test_contacts_of_a_customer_with_the_portal_turned_off_see_nothing(three_levels):
    head = three_levels[0]
    head.portal_enabled = False
    head.save()
    contact = ContactPersonFactory(customer=head)

    assert not visible_customers(user=contact.user).exists()


def test_staff_without_a_contact_person_and_anonymous_visitors_see_nothing(three_levels):
    staff = StaffUserFactory()

    assert not visible_customers(user=staff).exists()
    assert not visible_customers(user=AnonymousUser()).exists()


def test_customers_under_follows_only_links_that_allow_parent_access(three_levels):
    head = three_levels[0]

    assert _names(customers_under(customer_id=head.pk)) == ["Boston", "Head office"]


@pytest.mark.parametrize("branches", [1, 50])
def test_visibility_costs_the_same_queries_for_one_or_fifty_branches(branches, django_assert_num_queries):
    head = CustomerFactory()
    parent = head
    for _ in range(3):  # depth too: a chain of three, then the branches under it
        parent = CustomerFactory(parent=parent)
    CustomerFactory.create_batch(branches, parent=parent)
    contact = ContactPersonFactory(customer=head)
    user = get_user_model().objects.get(pk=contact.user_id)  # nothing cached on it

    with django_assert_num_queries(2):  # the contact, then one recursive CTE
        visible = list(visible_customers(user=user))

    assert len(visible) == 4 + branches


def _every_kind_of_user(three_levels):
    head, chicago, loop, boston = three_levels
    disabled = ContactPersonFactory(customer=boston)
    disabled_service = disable_portal_access(contact=disabled)
    portal_off = ContactPersonFactory(customer=CustomerFactory(portal_enabled=False))
    return [
        ContactPersonFactory(customer=head).user,
        ContactPersonFactory(customer=chicago).user,
        ContactPersonFactory(customer=loop).user,
        disabled_service.user,
        portal_off.user,
        StaffUserFactory(),
        AnonymousUser(),
    ]


def test_the_visible_rows_and_root_read_without_the_subquery_agree_with_visible_customers(three_levels):
    for user in _every_kind_of_user(three_levels):
        visible = visible_customers(user=user)
        roots = [c for c in visible if getattr(user, "contact", None) and c.pk == user.contact.customer_id]

        rows = sorted(visible_customer_rows(user=user))
        assert rows == sorted(visible.values_list("pk", "display_name", "currency"))
        assert visible_root(user=user) == (roots[0] if roots else None)


def test_id_in_filters_by_the_list_and_an_empty_list_matches_nothing(three_levels):
    head, chicago, loop, boston = three_levels
    ids = Ids([boston.pk, loop.pk])

    assert _names(Customer.objects.filter(IdIn(F("pk"), ids))) == ["Boston", "Chicago Loop"]
    assert _names(Customer.objects.filter(IdIn(F("pk"), ids))) == ["Boston", "Chicago Loop"]  # literal reused
    assert not Customer.objects.filter(IdIn(F("pk"), [])).exists()
