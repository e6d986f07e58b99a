"""The invoice list at scale reads the visible customers once and filters invoices by their ids as one
array; what it shows (rows, account names, the account select, the count) stays limited to them."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice
from tests.factories import InvoiceFactory, RetainerInvoiceFactory

pytestmark = pytest.mark.django_db

UNPAID_BY_DUE_DATE = "/invoices/?status=unpaid&sort=due_on"


def _get(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries]


def test_the_invoice_list_reads_the_customers_table_once(client, head_office, ledger):
    client.force_login(head_office["contact"].user)
    client.get(UNPAID_BY_DUE_DATE)

    _page, sql = _get(client, UNPAID_BY_DUE_DATE)

    # Once for the select, the account column and the filter; the invoice rows do not join it. (The login's
    # own customer comes with the user, portal.auth_backends.)
    page_reads = [s for s in sql if not s.startswith('SELECT "auth_user"')]
    assert len([s for s in page_reads if re.search(r"\bbilling_customer\b", s)]) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the array parameter is PostgreSQL's")
def test_the_invoice_list_sends_the_visible_customer_ids_as_one_array(client, head_office, ledger):
    client.force_login(head_office["contact"].user)
    client.get(UNPAID_BY_DUE_DATE)

    _page, sql = _get(client, UNPAID_BY_DUE_DATE)

    invoice_queries = [s for s in sql if 'FROM "billing_invoice"' in s]
    assert len(invoice_queries) == 2  # the count and the page
    ids = {head_office["parent"].pk, head_office["shared"].pk}
    for s in invoice_queries:
        listed = re.search(r'"customer_id" = ANY\(\'\{([0-9,]+)\}\'::bigint\[\]\)', s)
        assert listed and set(map(int, listed.group(1).split(","))) == ids, s
        assert '"customer_id" IN (' not in s


def test_the_page_query_reads_only_the_columns_the_list_shows(client, head_office, ledger):
    client.force_login(head_office["contact"].user)
    client.get(UNPAID_BY_DUE_DATE)

    _page, sql = _get(client, UNPAID_BY_DUE_DATE)

    (rows,) = [s for s in sql if s.startswith('SELECT "billing_invoice"."id"')]
    assert '"billing_invoice"."balance_due"' in rows
    assert '"billing_invoice"."notes"' not in rows and '"billing_invoice"."terms"' not in rows


def test_each_row_names_its_account_and_the_select_lists_only_visible_accounts_by_name(
    client, head_office, ledger
):
    client.force_login(head_office["contact"].user)

    page, _sql = _get(client, "/invoices/?sort=number")

    rows = re.findall(r'>(HQ-INV-\d|SH-INV-\d)</a></td>\s*<td class="hide-sm">([^<]+)</td>', page)
    assert rows == [("HQ-INV-1", "Head Office Ltd"), ("HQ-INV-2", "Head Office Ltd"),
                    ("SH-INV-1", "Shared Branch"), ("SH-INV-2", "Shared Branch")]
    select = re.search(r'<select[^>]*name="branch"[^>]*>(.*?)</select>', page).group(1)
    assert re.findall(r">([^<]*)</option>", select) == ["All accounts", "Head Office Ltd", "Shared Branch"]


def test_the_count_leaves_out_a_branch_closed_to_the_parent(client, head_office):
    InvoiceFactory.create_batch(20, customer=head_office["parent"])
    InvoiceFactory.create_batch(10, customer=head_office["shared"])
    InvoiceFactory.create_batch(7, customer=head_office["private"])
    InvoiceFactory.create_batch(3, customer=head_office["below_private"])
    client.force_login(head_office["contact"].user)

    page, _sql = _get(client, UNPAID_BY_DUE_DATE)

    assert "1–25 of 30" in page


def test_a_branch_id_outside_the_tree_is_an_error_on_the_filter_not_a_peek(client, head_office, ledger):
    client.force_login(head_office["contact"].user)

    page, _sql = _get(client, f"/invoices/?branch={head_office['private'].pk}")

    assert "field-error" in page
    assert "SECRET" not in page and "Private Branch" not in page


def test_the_retainer_list_shows_only_visible_retainer_invoices_with_their_account(client, head_office):
    RetainerInvoiceFactory(customer=head_office["shared"], number="SH-RET-9")
    RetainerInvoiceFactory(customer=head_office["private"], number="SECRET-RET-9")
    InvoiceFactory(customer=head_office["shared"], number="SH-INV-9")
    client.force_login(head_office["contact"].user)

    page, _sql = _get(client, "/retainer-invoices/")

    assert re.search(r'>SH-RET-9</a></td>\s*<td class="hide-sm">Shared Branch</td>', page)
    assert "SECRET" not in page and "SH-INV-9" not in page


def test_a_list_longer_than_the_count_cap_says_more_than_the_cap_and_counts_only_that_far(
    client, head_office, monkeypatch
):
    monkeypatch.setattr("portal.views.invoices.COUNT_CAP", 30)
    InvoiceFactory.create_batch(60, customer=head_office["shared"])
    client.force_login(head_office["contact"].user)

    page, sql = _get(client, "/invoices/")

    assert "1–25 of more than 30" in page and "Page 1<" in page and 'rel="next"' in page
    counts = [s for s in sql if "COUNT(" in s]
    assert len(counts) == 1 and "LIMIT 31" in counts[0]


@pytest.mark.parametrize(
    ("number", "shown"), [("2", "26–50 of 60"), ("3", "51–60 of 60"), ("99", "51–60 of 60"), ("0", "51–60 of 60")]
)
def test_a_page_at_or_past_the_count_cap_is_counted_exactly(client, head_office, monkeypatch, number, shown):
    monkeypatch.setattr("portal.views.invoices.COUNT_CAP", 30)
    InvoiceFactory.create_batch(60, customer=head_office["shared"])
    client.force_login(head_office["contact"].user)

    page, _sql = _get(client, f"/invoices/?page={number}")

    assert shown in page and "of 3</span>" in page


def test_a_list_within_the_count_cap_shows_its_exact_size_with_thousands_separators(client, head_office):
    # Straight to the table, as a data load would: the list reads invoices only.
    Invoice.objects.bulk_create(InvoiceFactory.build_batch(1001, customer=head_office["shared"]))
    client.force_login(head_office["contact"].user)

    page, _sql = _get(client, "/invoices/")

    assert "1–25 of 1,001" in page and "Page 1 of 41" in page


def test_the_account_select_escapes_names_and_keeps_the_chosen_account_selected(client, head_office, ledger):
    head_office["shared"].display_name = 'Shared <b>"&" Co'
    head_office["shared"].save(update_fields=["display_name"])
    client.force_login(head_office["contact"].user)

    page, _sql = _get(client, f"/invoices/?branch={head_office['shared'].pk}")

    assert (f'<option value="{head_office["shared"].pk}" selected>Shared &lt;b&gt;&quot;&amp;&quot; Co</option>'
            in page)
    assert "<b>" not in page.split('name="branch"')[1].split("</select>")[0]
