"""The customer back office through the admin, as a staff user sees it."""

import threading
import time
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse

from billing.models import ContactPerson, Customer, Organisation
from billing.services import allocate_payment, link_to_parent
from tests.factories import (
    ContactPersonFactory,
    CustomerFactory,
    CustomerGroupFactory,
    InvoiceFactory,
    ItemFactory,
    PaymentFactory,
    PriceListFactory,
    PriceListItemFactory,
    RetainerInvoiceFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:billing_customer_changelist")


def _listed(response) -> list[str]:
    assert response.status_code == 200
    return sorted(c.display_name for c in response.context["cl"].result_list)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _change_form_data(customer: Customer, **changes) -> dict:
    """What the change page posts back for this customer, with `changes` applied."""
    data = {
        "display_name": customer.display_name, "company_name": customer.company_name,
        "customer_type": customer.customer_type, "currency": customer.currency, "email": customer.email,
        "phone": "", "website": "", "tax_id": "", "billing_address": "", "shipping_address": "",
        "parent": customer.parent_id or "",
        "allow_parent_access": "on" if customer.allow_parent_access else "",
        "group": customer.group_id or "", "payment_terms_days": "", "discount_percent": "", "price_list": "",
        "portal_enabled": "on" if customer.portal_enabled else "", "notes": "",
        "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0", "contacts-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def _post_change(client, customer, **changes):
    url = reverse("admin:billing_customer_change", args=[customer.pk])
    return client.post(url, _change_form_data(customer, **changes))


def _field_errors(response, field) -> list[str]:
    assert response.status_code == 200, "a refused form is shown again, not saved or crashed"
    return response.context["adminform"].form.errors.get(field, [])


# --- the list ---------------------------------------------------------------------------


@pytest.fixture
def customers():
    resellers = CustomerGroupFactory(name="Resellers")
    head = CustomerFactory(display_name="Acme Head Office", group=resellers)
    CustomerFactory(display_name="Acme Boston", parent=head, portal_enabled=False)
    CustomerFactory(display_name="Jo Bloggs", customer_type=Customer.Type.INDIVIDUAL, portal_enabled=False,
                    origin=Customer.Origin.CRM)
    ContactPersonFactory(customer=head, email="pat@acme.example")
    return resellers


@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["Acme Boston", "Acme Head Office", "Jo Bloggs"]),
    ({"customer_type__exact": "individual"}, ["Jo Bloggs"]),
    ({"has_parent": "yes"}, ["Acme Boston"]),
    ({"has_parent": "no"}, ["Acme Head Office", "Jo Bloggs"]),
    ({"portal_enabled__exact": "1"}, ["Acme Head Office"]),
    ({"origin": "crm"}, ["Jo Bloggs"]),
    ({"origin": "billing"}, ["Acme Boston", "Acme Head Office"]),
    ({"q": "acme"}, ["Acme Boston", "Acme Head Office"]),
    ({"q": "pat@acme.example"}, ["Acme Head Office"]),
    ({"has_parent": "sideways", "origin": "mars"}, ["Acme Boston", "Acme Head Office", "Jo Bloggs"]),
])
def test_the_customer_list_filters_and_searches(staff, customers, query, expected):
    response = staff.get(CHANGELIST, query)

    assert _listed(response) == expected


def test_the_group_filter_lists_the_members_and_the_origin_filter_says_crm_customers(staff, customers):
    response = staff.get(CHANGELIST, {"group__id__exact": customers.pk})

    assert _listed(response) == ["Acme Head Office"]
    assert "CRM customers" in response.content.decode()


def test_a_malformed_filter_value_is_not_a_server_error(staff, customers):
    response = staff.get(CHANGELIST, {"group__id__exact": "not-a-number"})

    assert response.status_code in (200, 302)


def test_the_list_query_count_does_not_grow_with_customers(staff, django_assert_max_num_queries):
    for _ in range(5):
        CustomerFactory(parent=CustomerFactory(group=CustomerGroupFactory()))
    staff.get(CHANGELIST)  # warm up session and content types

    with django_assert_max_num_queries(12) as first:
        staff.get(CHANGELIST)
    for _ in range(15):
        CustomerFactory(parent=CustomerFactory(group=CustomerGroupFactory()))
    with django_assert_max_num_queries(len(first.captured_queries)):
        staff.get(CHANGELIST)


# --- hierarchy rules through the admin form ---------------------------------------------


def test_choosing_an_individual_as_parent_shows_the_message_next_to_parent_and_saves_nothing(staff):
    person = CustomerFactory(display_name="Jo Bloggs", customer_type=Customer.Type.INDIVIDUAL)
    branch = CustomerFactory()

    response = _post_change(staff, branch, parent=person.pk, display_name="Renamed")

    assert _field_errors(response, "parent") == [
        "Jo Bloggs is an Individual customer and cannot be a parent. Choose a Business customer."
    ]
    branch.refresh_from_db()
    assert (branch.parent, branch.display_name) == (None, branch.display_name)
    assert not Customer.objects.filter(display_name="Renamed").exists()


def test_an_individual_given_a_parent_is_refused_next_to_parent(staff):
    head = CustomerFactory()
    person = CustomerFactory(customer_type=Customer.Type.INDIVIDUAL)

    response = _post_change(staff, person, parent=head.pk)

    assert _field_errors(response, "parent") == [
        "Only a Business customer can have a parent; this one is an Individual."
    ]
    assert Customer.objects.get(pk=person.pk).parent is None


def test_making_a_loop_in_the_admin_is_refused_next_to_parent(staff):
    top = CustomerFactory(display_name="Top")
    bottom = CustomerFactory(display_name="Bottom", parent=CustomerFactory(parent=top))

    response = _post_change(staff, top, parent=bottom.pk)

    assert _field_errors(response, "parent") == [
        "Bottom is already below Top in the hierarchy; linking them would make a loop."
    ]
    assert Customer.objects.get(pk=top.pk).parent is None


def test_a_branch_in_another_currency_is_refused_next_to_currency(staff):
    head = CustomerFactory(display_name="Head Office", currency="USD")
    branch = CustomerFactory(currency="EUR")

    response = _post_change(staff, branch, parent=head.pk)

    assert _field_errors(response, "currency") == [
        "A branch bills in its parent's currency: Head Office uses USD."
    ]
    assert Customer.objects.get(pk=branch.pk).parent is None


def test_a_parent_cannot_be_switched_to_individual_or_another_currency_in_the_admin(staff):
    head = CustomerFactory(currency="USD")
    CustomerFactory(parent=head)

    response = _post_change(staff, head, customer_type="individual", currency="EUR")

    assert _field_errors(response, "customer_type") == [
        "This customer has branches, so it must stay a Business customer. Unlink the branches first."
    ]
    assert _field_errors(response, "currency") == [
        "This customer's branches bill in another currency; a parent and its branches share one."
    ]
    head.refresh_from_db()
    assert (head.customer_type, head.currency) == (Customer.Type.BUSINESS, "USD")


def test_a_valid_link_in_the_admin_is_saved(staff):
    head = CustomerFactory()
    branch = CustomerFactory()

    response = _post_change(staff, branch, parent=head.pk, allow_parent_access="")

    assert response.status_code == 302
    branch.refresh_from_db()
    assert (branch.parent, branch.allow_parent_access) == (head, False)


def test_out_of_range_overrides_are_refused_next_to_the_field(staff):
    customer = CustomerFactory()

    response = _post_change(staff, customer, discount_percent="150", payment_terms_days="-3")

    assert _field_errors(response, "discount_percent")
    assert _field_errors(response, "payment_terms_days")
    customer.refresh_from_db()
    assert customer.discount_percent is None and customer.payment_terms_days is None


def test_the_change_page_shows_effective_terms_and_where_they_come_from(staff):
    group = CustomerGroupFactory(name="Resellers", payment_terms_days=45,
                                 price_list=PriceListFactory(name="Reseller prices"))
    customer = CustomerFactory(group=group, discount_percent=Decimal("7.50"))

    page = staff.get(reverse("admin:billing_customer_change", args=[customer.pk])).content.decode()

    assert "Net 45 days, from the group" in page
    assert "7.50%, from this customer&#x27;s override" in page
    assert "Reseller prices, from the group" in page
    assert reverse("admin:billing_customer_hierarchy", args=[customer.pk]) in page


def test_the_change_page_links_to_the_customers_statement(staff):
    customer = CustomerFactory()

    page = staff.get(reverse("admin:billing_customer_change", args=[customer.pk])).content.decode()

    assert reverse("admin:billing_customer_statement", args=[customer.pk]) in page


def test_a_malformed_or_unknown_customer_id_is_not_a_server_error(staff):
    # The admin answers an unknown change page with a redirect and a message.
    assert staff.get("/admin/billing/customer/abc/change/").status_code == 302
    assert staff.get("/admin/billing/customer/abc/hierarchy/").status_code == 404
    assert staff.get("/admin/billing/customer/999999/hierarchy/").status_code == 404


# --- contact persons inline -------------------------------------------------------------


def _with_contacts(customer, contacts, new=()):
    data = {"contacts-TOTAL_FORMS": str(len(contacts) + len(new)),
            "contacts-INITIAL_FORMS": str(len(contacts))}
    for i, (contact, primary) in enumerate(list(contacts) + list(new)):
        row = {"first_name": contact["first_name"], "email": contact.get("email", ""),
               "customer": customer.pk}
        if "id" in contact:
            row["id"] = contact["id"]
        if primary:
            row["is_primary"] = "on"
        data.update({f"contacts-{i}-{key}": value for key, value in row.items()})
    return data


def test_two_primary_contacts_in_the_inline_are_refused_and_nothing_is_written(staff):
    customer = CustomerFactory()
    data = _with_contacts(customer, [], new=[({"first_name": "Ann"}, True), ({"first_name": "Bob"}, True)])

    response = _post_change(staff, customer, **data)

    assert response.status_code == 200
    errors = [form.errors.get("is_primary") for form in response.context["inline_admin_formsets"][0].formset]
    assert errors == [["Only one contact person can be the primary contact."]] * 2
    assert not ContactPerson.objects.exists()


def test_moving_the_primary_flag_to_another_contact_in_the_inline_works(staff):
    customer = CustomerFactory()
    ann = ContactPersonFactory(customer=customer, first_name="Ann", is_primary=True)
    bob = ContactPersonFactory(customer=customer, first_name="Bob", is_primary=False)
    data = _with_contacts(customer, [({"id": bob.pk, "first_name": "Bob", "email": bob.email}, True),
                                     ({"id": ann.pk, "first_name": "Ann", "email": ann.email}, False)])

    response = _post_change(staff, customer, **data)

    assert response.status_code == 302
    assert list(ContactPerson.objects.filter(is_primary=True)) == [bob]


def test_removing_the_email_of_a_contact_with_portal_access_is_refused_next_to_email(staff):
    customer = CustomerFactory()
    pat = ContactPersonFactory(customer=customer, first_name="Pat")
    data = _with_contacts(customer, [({"id": pat.pk, "first_name": "Pat", "email": ""}, True)])

    response = _post_change(staff, customer, **data)

    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].errors["email"] == ["A contact needs an email address to log into the portal."]
    pat.refresh_from_db()
    assert pat.email


# --- bulk actions -----------------------------------------------------------------------


def _action(client, action, customers, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in customers], **extra}
    return client.post(CHANGELIST, data, follow=True)


def test_adding_two_customers_to_a_group_goes_through_a_page_to_choose_the_group(staff):
    group = CustomerGroupFactory(name="Enterprise")
    chosen = CustomerFactory.create_batch(2)
    CustomerFactory()

    choose = _action(staff, "add_to_group", chosen)
    assert choose.status_code == 200
    assert "Choose the group for these 2 customers" in choose.content.decode()
    assert not Customer.objects.filter(group=group).exists()

    done = _action(staff, "add_to_group", chosen, apply="1", group=group.pk)

    assert "2 customer(s) added to Enterprise." in _messages(done)
    assert set(Customer.objects.filter(group=group)) == set(chosen)


def test_choosing_no_group_shows_the_page_again_with_a_message(staff):
    chosen = CustomerFactory.create_batch(2)

    response = _action(staff, "add_to_group", chosen, apply="1", group="")

    assert response.context["form"].errors["group"] == ["This field is required."]
    assert not Customer.objects.filter(group__isnull=False).exists()


def test_adding_fifty_one_customers_to_a_group_is_refused_with_the_services_message(staff):
    group = CustomerGroupFactory()
    chosen = CustomerFactory.create_batch(51)

    response = _action(staff, "add_to_group", chosen, apply="1", group=group.pk)

    assert _messages(response) == ["Select at most 50 customers at a time; 51 were selected."]
    assert not Customer.objects.filter(group=group).exists()


def test_removing_customers_from_their_group(staff):
    group = CustomerGroupFactory()
    chosen = CustomerFactory.create_batch(2, group=group)

    response = _action(staff, "remove_from_group", chosen)

    assert "2 customer(s) removed from their group." in _messages(response)
    assert not Customer.objects.filter(group=group).exists()


def test_enable_portal_action_reports_invitations_sent_and_customers_skipped(
    staff, django_capture_on_commit_callbacks,
):
    ready = ContactPersonFactory(user=None, portal_enabled=False,
                                 customer=CustomerFactory(display_name="Ready", portal_enabled=False))
    lonely = CustomerFactory(display_name="Lonely", portal_enabled=False)

    with django_capture_on_commit_callbacks(execute=True):
        response = _action(staff, "enable_portal_and_invite", [ready.customer, lonely])

    assert _messages(response) == ["1 invitation(s) sent.", "Skipped: Lonely has no primary contact person."]
    assert len(mail.outbox) == 1
    assert Customer.objects.get(pk=ready.customer_id).portal_enabled
    assert not Customer.objects.get(pk=lonely.pk).portal_enabled


def test_enable_portal_action_refuses_fifty_one_customers(staff):
    chosen = CustomerFactory.create_batch(51, portal_enabled=False)

    response = _action(staff, "enable_portal_and_invite", chosen)

    assert _messages(response) == ["Select at most 50 customers at a time; 51 were selected."]
    assert not Customer.objects.filter(portal_enabled=True).exists()


# --- contact person actions -------------------------------------------------------------


def _contact_action(client, action, contacts):
    url = reverse("admin:billing_contactperson_changelist")
    return client.post(url, {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in contacts]}, follow=True)


def test_invite_reinvite_and_disable_contacts_from_the_contact_list(
    staff, django_capture_on_commit_callbacks,
):
    new = ContactPersonFactory(user=None, portal_enabled=False, first_name="Nia", last_name="New")

    with django_capture_on_commit_callbacks(execute=True):
        invited = _contact_action(staff, "invite", [new])
        again = _contact_action(staff, "reinvite", [new])
    disabled = _contact_action(staff, "disable_access", [new])

    assert _messages(invited) == ["1 invitation(s) sent."]
    assert _messages(again) == ["1 invitation(s) sent again."]
    assert _messages(disabled) == ["Portal access disabled for 1 contact person(s)."]
    assert len(mail.outbox) == 2
    new.refresh_from_db()
    assert not new.portal_enabled and not new.user.is_active


def test_inviting_a_contact_who_already_has_access_says_to_reinvite(staff):
    contact = ContactPersonFactory(first_name="Ann", last_name="Active")

    response = _contact_action(staff, "invite", [contact])

    assert _messages(response) == [
        "0 invitation(s) sent.",
        "Ann Active already has portal access; use Re-invite to send the email again.",
    ]


def test_a_second_primary_contact_on_the_contact_form_is_refused_next_to_the_flag(staff):
    first = ContactPersonFactory(first_name="Ann", last_name="First")
    url = reverse("admin:billing_contactperson_add")
    data = {"customer": first.customer_id, "first_name": "Bob", "is_primary": "on"}

    response = staff.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["is_primary"] == [
        f"{first.customer.display_name} already has a primary contact, Ann First. Untick it there first."
    ]
    assert ContactPerson.objects.count() == 1


# --- the hierarchy page -----------------------------------------------------------------


def test_the_hierarchy_page_shows_the_whole_tree_with_depth_and_outstanding_figures(staff):
    head = CustomerFactory(display_name="Head Office")
    chicago = CustomerFactory(display_name="Chicago", parent=head, allow_parent_access=False)
    loop = CustomerFactory(display_name="Chicago Loop", parent=chicago)
    CustomerFactory(display_name="Boston", parent=head)
    InvoiceFactory(customer=head, total=Decimal("1000.00"))
    InvoiceFactory(customer=chicago, total=Decimal("250.50"))
    part_paid = InvoiceFactory(customer=chicago, total=Decimal("100.00"))
    allocate_payment(payment=PaymentFactory(customer=chicago), allocations={part_paid.pk: Decimal("50.50")})
    RetainerInvoiceFactory(customer=loop, total=Decimal("500.00"))  # a retainer is not "outstanding"
    url = reverse("admin:billing_customer_hierarchy", args=[loop.pk])

    response = staff.get(url)

    assert response.status_code == 200
    rows = [(r["depth"], r["node"].display_name, r["outstanding"]) for r in response.context["rows"]]
    assert rows == [
        (0, "Head Office", "$1,000.00"), (1, "Boston", "$0.00"), (1, "Chicago", "$300.00"),
        (2, "Chicago Loop", "$0.00"),
    ]
    page = response.content.decode()
    assert 'id="consolidated-outstanding">$1,300.00<' in page
    assert "Hierarchy of Head Office" in page
    assert reverse("admin:billing_customer_change", args=[chicago.pk]) in page


@pytest.mark.parametrize("branches", [1, 30])
def test_the_hierarchy_page_query_count_does_not_grow_with_branches(
    branches, staff, django_assert_num_queries,
):
    head = CustomerFactory()
    for branch in CustomerFactory.create_batch(branches, parent=head):
        InvoiceFactory(customer=branch)
    url = reverse("admin:billing_customer_hierarchy", args=[head.pk])
    staff.get(url)

    # session, user, the customer, the tree, the grouped outstanding figures
    with django_assert_num_queries(5):
        response = staff.get(url)

    assert response.context["total"] == f"${branches * 100:,}.00"


def test_the_customer_list_links_to_the_hierarchy_only_for_customers_in_one(staff):
    head = CustomerFactory(display_name="Head")
    CustomerFactory(display_name="Branch", parent=head)
    loner = CustomerFactory(display_name="Loner")

    page = staff.get(CHANGELIST).content.decode()

    assert reverse("admin:billing_customer_hierarchy", args=[head.pk]) in page
    assert reverse("admin:billing_customer_hierarchy", args=[loner.pk]) not in page


# --- groups, items, price lists, organisation --------------------------------------------


def test_the_group_list_counts_members_and_the_group_page_lists_them(staff):
    group = CustomerGroupFactory(name="Resellers")
    CustomerFactory(display_name="Reseller One", group=group)
    CustomerFactory(display_name="Reseller Two", group=group)

    listing = staff.get(reverse("admin:billing_customergroup_changelist"))
    page = staff.get(reverse("admin:billing_customergroup_change", args=[group.pk])).content.decode()

    assert [g.member_total for g in listing.context["cl"].result_list] == [2]
    assert "Reseller One" in page and "Reseller Two" in page


def test_editing_a_group_in_the_admin_refuses_a_discount_over_100(staff):
    group = CustomerGroupFactory(name="Resellers")
    url = reverse("admin:billing_customergroup_change", args=[group.pk])

    response = staff.post(url, {"name": "Resellers", "discount_percent": "101"})

    assert response.context["adminform"].form.errors["discount_percent"]
    group.refresh_from_db()
    assert group.discount_percent is None


def test_price_list_pages_show_the_percentage_or_the_per_item_rates(staff):
    percentage = PriceListFactory(name="Markup", percentage=Decimal("10"))
    per_item = PriceListItemFactory(item=ItemFactory(name="Audit")).price_list

    listing = staff.get(reverse("admin:billing_pricelist_changelist")).content.decode()
    percentage_page = staff.get(reverse("admin:billing_pricelist_change", args=[percentage.pk]))
    per_item_page = staff.get(reverse("admin:billing_pricelist_change", args=[per_item.pk]))

    assert "+10.00%" in listing and "1 item rate(s)" in listing
    assert "percentage" in percentage_page.context["adminform"].form.fields
    assert not percentage_page.context["inline_admin_formsets"]
    assert "percentage" not in per_item_page.context["adminform"].form.fields
    assert "Audit" in per_item_page.content.decode()
    assert staff.get(reverse("admin:billing_item_changelist"), {"q": "Audit"}).status_code == 200


def test_the_organisation_is_one_row_opened_from_the_list_never_added_or_deleted(staff):
    listing = staff.get(reverse("admin:billing_organisation_changelist"))
    organisation = Organisation.objects.get()

    assert listing.status_code == 302
    assert listing.url == reverse("admin:billing_organisation_change", args=[organisation.pk])
    assert staff.get(reverse("admin:billing_organisation_add")).status_code == 403
    delete_url = reverse("admin:billing_organisation_delete", args=[organisation.pk])
    assert staff.post(delete_url).status_code == 403
    assert staff.get(listing.url).status_code == 200
    assert Organisation.objects.count() == 1


def test_a_bad_organisation_default_is_refused_next_to_the_field(staff):
    organisation = Organisation.current()
    url = reverse("admin:billing_organisation_change", args=[organisation.pk])

    response = staff.post(url, {"name": "Acme Billing", "base_currency": "USD",
                                       "default_payment_terms_days": "400", "default_discount_percent": "0"})

    assert response.context["adminform"].form.errors["default_payment_terms_days"]
    organisation.refresh_from_db()
    assert organisation.name != "Acme Billing"


# --- adding and deleting ----------------------------------------------------------------


def _add_form_data(**fields) -> dict:
    data = {"display_name": "New Branch", "customer_type": "business", "currency": "USD",
            "allow_parent_access": "on", "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0"}
    data.update(fields)
    return data


def test_adding_a_branch_in_another_currency_is_refused_and_nothing_is_created(staff):
    head = CustomerFactory(display_name="Head Office", currency="USD")
    url = reverse("admin:billing_customer_add")
    assert staff.get(url).status_code == 200

    response = staff.post(url, _add_form_data(parent=head.pk, currency="EUR"))

    assert _field_errors(response, "currency") == [
        "A branch bills in its parent's currency: Head Office uses USD."
    ]
    assert not Customer.objects.filter(display_name="New Branch").exists()


def test_adding_a_branch_with_its_primary_contact_works(staff):
    head = CustomerFactory()
    data = _add_form_data(parent=head.pk, **{
        "contacts-TOTAL_FORMS": "1", "contacts-0-first_name": "Ann",
        "contacts-0-email": "ann@branch.example", "contacts-0-is_primary": "on",
    })

    response = staff.post(reverse("admin:billing_customer_add"), data)

    assert response.status_code == 302
    branch = Customer.objects.get(display_name="New Branch")
    assert branch.parent == head
    assert list(branch.contacts.values_list("first_name", "is_primary")) == [("Ann", True)]


def test_deleting_customers_with_invoices_or_branches_is_refused_with_a_page_not_an_error(staff):
    head = CustomerFactory(display_name="Head")
    CustomerFactory(parent=head)
    billed = InvoiceFactory().customer

    response = _action(staff, "delete_selected", [head, billed], post="yes")

    assert response.status_code == 200
    assert "<title>Cannot delete customers" in response.content.decode()
    assert Customer.objects.filter(pk__in=[head.pk, billed.pk]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_admin_link_waits_for_a_concurrent_link_and_then_refuses_the_loop(client):
    client.force_login(StaffUserFactory())
    x, p = CustomerFactory(display_name="X"), CustomerFactory(display_name="P")
    y = CustomerFactory(display_name="Y", parent=p)
    q = CustomerFactory(display_name="Q", parent=x)
    first_linked = threading.Event()

    def link_x_under_y_and_hold():
        try:
            with transaction.atomic():
                link_to_parent(customer=x, parent=y)
                first_linked.set()
                time.sleep(0.5)  # uncommitted while the admin form is checked
        finally:
            first_linked.set()
            connection.close()

    other = threading.Thread(target=link_x_under_y_and_hold)
    other.start()
    first_linked.wait(5)
    response = _post_change(client, p, parent=q.pk)
    other.join(10)

    assert _field_errors(response, "parent") == [
        "Q is already below P in the hierarchy; linking them would make a loop."
    ]
    assert Customer.objects.get(pk=p.pk).parent is None
    assert Customer.objects.get(pk=x.pk).parent == y


@pytest.mark.parametrize(("url_name", "query"), [
    ("admin:billing_contactperson_changelist", {"portal_enabled__exact": "1", "q": "Ann"}),
    ("admin:billing_contactperson_changelist", {"is_primary__exact": "0"}),
    ("admin:billing_customergroup_changelist", {"q": "Resellers", "o": "2"}),
    ("admin:billing_item_changelist", {"is_active__exact": "1", "q": "Audit"}),
    ("admin:billing_pricelist_changelist", {"kind__exact": "per_item", "q": "list"}),
])
def test_the_other_back_office_lists_filter_and_search(staff, url_name, query):
    ContactPersonFactory(first_name="Ann", customer=CustomerFactory(group=CustomerGroupFactory(name="Resellers")))
    PriceListItemFactory(item=ItemFactory(name="Audit"))

    response = staff.get(reverse(url_name), query)

    assert response.status_code == 200


def test_contact_actions_refuse_more_than_fifty_contacts(staff):
    contacts = ContactPersonFactory.create_batch(51, portal_enabled=False, user=None)

    response = _contact_action(staff, "invite", contacts)

    assert _messages(response) == ["Select at most 50 contact persons at a time; 51 were selected."]
    assert not ContactPerson.objects.filter(portal_enabled=True).exists()
