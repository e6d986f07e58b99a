"""The account filter of the invoice, payment and sales-order lists for a head office with many accounts: past
`ACCOUNT_LIST_MAX` accounts it is typed, with suggestions (as on the statement), instead of a select of a
thousand options; a name meaning several accounts lists them as links and shows no rows until one is chosen."""

import re

import pytest

from portal.forms import AccountFilterForm
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db

BRANCH_SELECT = re.compile(r'<select[^>]* name="branch"')

# list URL → the factory of one of its rows, and how a row's number is named on it
LISTS = {
    "/invoices/": lambda customer, number: InvoiceFactory(customer=customer, number=number),
    "/payments/": lambda customer, number: PaymentFactory(customer=customer, number=number),
    "/sales-orders/?tab=all": lambda customer, number: SalesOrderFactory(customer=customer, number=number),
}


@pytest.fixture
def many_branches(head_office):
    """More branches than a select lists; Boston and the shared branch each have one row of every list."""
    parent = head_office["parent"]
    CustomerFactory.create_batch(AccountFilterForm.ACCOUNT_LIST_MAX, parent=parent, allow_parent_access=True)
    boston = CustomerFactory(display_name="Northwind Boston", parent=parent, allow_parent_access=True)
    CustomerFactory(display_name="Northwind Chicago", parent=parent, allow_parent_access=True)
    for make in LISTS.values():
        make(boston, "BOS-1")
        make(head_office["shared"], "SH-1")
    return boston


def _url(list_url: str, query: str) -> str:
    return f"{list_url}{'&' if '?' in list_url else '?'}{query}"


@pytest.mark.parametrize("list_url", LISTS)
def test_past_the_account_list_the_account_is_typed_and_filters_the_list(client, head_office, many_branches, list_url):
    client.force_login(head_office["contact"].user)

    unfiltered = client.get(list_url).content.decode()
    html = client.get(_url(list_url, "account=boston")).content.decode()

    assert not BRANCH_SELECT.search(unfiltered) and 'data-account-search="/accounts/suggestions/"' in unfiltered
    assert "BOS-1" in unfiltered and "SH-1" in unfiltered
    assert "BOS-1" in html and "SH-1" not in html
    assert 'value="boston"' in html  # the field keeps what was typed


@pytest.mark.parametrize("list_url", LISTS)
def test_a_name_several_accounts_share_lists_them_as_links_and_no_rows(client, head_office, many_branches, list_url):
    client.force_login(head_office["contact"].user)

    response = client.get(_url(list_url, "account=northwind&page=2"))

    html = response.content.decode()
    links = re.findall(r'<li><a href="\?([^"]+)">([^<]+)</a></li>', html)
    assert response.status_code == 200
    assert "2 accounts match “northwind”: choose one below" in html
    assert [name for _query, name in links] == ["Northwind Boston", "Northwind Chicago"]
    assert f"branch={many_branches.pk}" in links[0][0] and "page=" not in links[0][0]
    assert "BOS-1" not in html and "SH-1" not in html
    assert "match these filters" in html  # the empty list says why it is empty


@pytest.mark.parametrize("list_url", LISTS)
def test_a_name_of_no_visible_account_shows_an_error_and_no_rows(client, head_office, many_branches, list_url):
    PaymentFactory(customer=head_office["private"], number="SECRET-PAY")
    client.force_login(head_office["contact"].user)

    html = client.get(_url(list_url, "account=Private Branch")).content.decode()

    assert "No account matches “Private Branch”." in html
    assert "BOS-1" not in html and "SH-1" not in html and "SECRET" not in html


@pytest.mark.parametrize("list_url", LISTS)
def test_a_link_to_one_account_fills_the_typed_field_with_its_name(client, head_office, many_branches, list_url):
    client.force_login(head_office["contact"].user)

    html = client.get(_url(list_url, f"branch={many_branches.pk}")).content.decode()

    assert 'value="Northwind Boston"' in html and "BOS-1" in html and "SH-1" not in html


def test_a_few_accounts_keep_their_select(client, head_office):
    client.force_login(head_office["contact"].user)

    html = client.get("/invoices/").content.decode()

    assert BRANCH_SELECT.search(html) and 'name="account"' not in html

