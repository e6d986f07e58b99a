"""The back office's search box (billing/admin/search.py) as staff use it: a number finds its document, a piece
of a name finds the customer's documents, odd input is only text, and more rows found cost no more queries.
Timings at 200,000 invoices: bench/admin_search.py."""

from datetime import date, timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.urls import reverse

from billing.models import CreditNote, Customer, Invoice, Payment
from tests.factories import (
    ContactPersonFactory,
    CreditNoteFactory,
    CustomerFactory,
    InvoiceFactory,
    PaymentFactory,
)

pytestmark = pytest.mark.django_db

INVOICES = reverse("admin:billing_invoice_changelist")
PAYMENTS = reverse("admin:billing_payment_changelist")
CREDIT_NOTES = reverse("admin:billing_creditnote_changelist")
CUSTOMERS = reverse("admin:billing_customer_changelist")


def _found(staff, changelist: str, term: str) -> list:
    response = staff.get(f"{changelist}?q={quote(term)}")
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_an_invoice_number_typed_in_lower_case_finds_that_invoice_only(staff):
    wanted = InvoiceFactory(number="INV-000123")
    InvoiceFactory(number="INV-0001234")  # contains the number typed: not shown once the exact one is found
    InvoiceFactory(reference="PO INV-000123")

    assert _found(staff, INVOICES, " inv-000123 ") == [wanted]


def test_a_number_that_is_no_invoice_is_searched_as_text(staff):
    longer = InvoiceFactory(number="INV-0001234")
    InvoiceFactory(number="INV-0009999")

    assert _found(staff, INVOICES, "INV-000123") == [longer]


def test_part_of_a_customer_name_finds_that_customers_invoices_and_payments(staff):
    northwind = CustomerFactory(display_name="Northwind Traders Chicago")
    theirs = [InvoiceFactory(customer=northwind), InvoiceFactory(customer=northwind)]
    InvoiceFactory(customer=CustomerFactory(display_name="Southwind Co"), reference="northwind?")
    payment = PaymentFactory(customer=northwind)
    PaymentFactory()

    assert set(_found(staff, INVOICES, "rthwind trad")) == set(theirs)
    assert set(_found(staff, INVOICES, "wind")) == {*theirs, Invoice.objects.get(reference="northwind?")}
    assert _found(staff, PAYMENTS, "rthwind") == [payment]


def test_words_must_all_match_each_one_on_any_field(staff):
    northwind = CustomerFactory(display_name="Northwind")
    wanted = InvoiceFactory(customer=northwind, reference="PO-77")
    InvoiceFactory(customer=northwind, reference="PO-12")
    InvoiceFactory(reference="PO-77")

    assert _found(staff, INVOICES, "northwind po-77") == [wanted]


def test_a_payment_number_and_reference_are_found(staff):
    payment = PaymentFactory(number="PAY-00042", reference="cheque 5512")
    PaymentFactory(number="PAY-00043")

    assert _found(staff, PAYMENTS, "pay-00042") == [payment]
    assert _found(staff, PAYMENTS, "5512") == [payment]


def test_credit_notes_are_found_by_number_customer_and_invoice_number(staff):
    invoice = InvoiceFactory(number="INV-0777", customer=CustomerFactory(display_name="Fabrikam"))
    note = CreditNoteFactory(number="CN-00009", customer=invoice.customer, invoice=invoice)
    CreditNoteFactory()

    assert _found(staff, CREDIT_NOTES, "cn-00009") == [note]
    assert _found(staff, CREDIT_NOTES, "abrik") == [note]
    assert _found(staff, CREDIT_NOTES, "0777") == [note]


def test_customers_are_found_by_name_company_email_and_contact(staff):
    acme = CustomerFactory(display_name="Acme", company_name="Acme Holdings LLC", email="ap@acme.example")
    ContactPersonFactory(customer=acme, first_name="Wilhelmina", last_name="Zorn")
    ContactPersonFactory(
        customer=acme, first_name="Wilhelm", last_name="Zorn", is_primary=False
    )  # two matches: one row
    CustomerFactory(display_name="Other")

    for term in ("acme", "holdings", "ap@acme", "wilhelm", "zorn"):
        assert _found(staff, CUSTOMERS, term) == [acme], term


@pytest.mark.parametrize("term", ["%", "_", "\\", "'", '"', "' OR 1=1 --", "a" * 5000, "INV-" + "9" * 40, "   "])
def test_odd_search_input_is_only_text_and_never_a_500(staff, term):
    InvoiceFactory(number="INV-00001", customer=CustomerFactory(display_name="Plain Co"))
    PaymentFactory()

    for changelist in (INVOICES, PAYMENTS, CREDIT_NOTES, CUSTOMERS):
        found = _found(staff, changelist, term)
        if term.strip():
            assert found == [], (changelist, term)  # "%" and "_" are not wildcards


def test_the_invoice_search_does_not_count_the_whole_table(staff):
    InvoiceFactory(customer=CustomerFactory(display_name="Northwind"))

    response = staff.get(f"{INVOICES}?q=northwind")

    assert response.context["cl"].show_full_result_count is False
    assert response.context["cl"].full_result_count is None


@pytest.mark.parametrize("invoices", [5, 150])
def test_searching_invoices_costs_the_same_queries_however_many_are_found(
    staff, invoices, django_assert_max_num_queries
):
    northwind = CustomerFactory(display_name="Northwind")
    InvoiceFactory.create_batch(invoices, customer=northwind)
    InvoiceFactory.create_batch(3)
    staff.get(f"{INVOICES}?q=northwind")

    # session, user; the customers named so; the count and the page of invoices; the list filters' choices
    with django_assert_max_num_queries(8):
        response = staff.get(f"{INVOICES}?q=northwind")

    assert response.context["cl"].result_count == invoices


def test_a_search_finding_more_than_a_page_pages_them_newest_first(staff):
    northwind = CustomerFactory(display_name="Northwind")
    invoices = [InvoiceFactory(customer=northwind, issued_on=date(2026, 1, 1) + timedelta(days=n)) for n in range(130)]
    InvoiceFactory.create_batch(3)
    newest_first = sorted(invoices, key=lambda invoice: (invoice.issued_on, invoice.pk), reverse=True)

    first = staff.get(f"{INVOICES}?q=northwind")
    second = staff.get(f"{INVOICES}?q=northwind&p=2")

    assert first.context["cl"].result_count == 130
    assert list(first.context["cl"].result_list) == newest_first[:100]
    assert list(second.context["cl"].result_list) == newest_first[100:]
    # no date drill-down above a search (it would read the dates of the whole table); a date chosen still filters
    assert first.context["cl"].date_hierarchy is None
    assert staff.get(f"{INVOICES}").context["cl"].date_hierarchy == "issued_on"
    narrowed = staff.get(f"{INVOICES}?q=northwind&issued_on__year=2026&issued_on__month=1")
    assert narrowed.context["cl"].result_count == 31


def test_searching_by_an_exact_number_costs_one_lookup_more(staff, django_assert_max_num_queries):
    invoice = InvoiceFactory(number="INV-04242")
    InvoiceFactory.create_batch(5)
    staff.get(f"{INVOICES}?q=inv-04242")

    with django_assert_max_num_queries(8):
        response = staff.get(f"{INVOICES}?q=inv-04242")

    assert list(response.context["cl"].result_list) == [invoice]


TRIGRAM_INDEXES = [
    "billing_invoice_number_trgm",
    "billing_invoice_reference_trgm",
    "billing_payment_number_trgm",
    "billing_payment_reference_trgm",
    "billing_creditnote_number_trgm",
    "billing_creditnote_reason_trgm",
    "billing_customer_display_name_trgm",
    "billing_customer_company_name_trgm",
    "billing_customer_email_trgm",
    "billing_contactperson_first_name_trgm",
    "billing_contactperson_last_name_trgm",
    "billing_contactperson_email_trgm",
]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_the_trigram_indexes_exist_and_are_valid():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = ANY(%s)",
            [TRIGRAM_INDEXES],
        )
        found = dict(cursor.fetchall())
    assert found == dict.fromkeys(TRIGRAM_INDEXES, True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
@pytest.mark.parametrize(
    ("model", "lookup", "index"),
    [
        (Invoice, "number__icontains", "billing_invoice_number_trgm"),
        (Invoice, "reference__icontains", "billing_invoice_reference_trgm"),
        (Payment, "number__icontains", "billing_payment_number_trgm"),
        (CreditNote, "reason__icontains", "billing_creditnote_reason_trgm"),
        (Customer, "display_name__icontains", "billing_customer_display_name_trgm"),
        (Customer, "email__icontains", "billing_customer_email_trgm"),
    ],
)
def test_djangos_icontains_is_the_expression_the_trigram_index_serves(model, lookup, index):
    # On a test table of a few rows the planner rightly prefers reading the table; with that choice taken
    # away it must still be able to use the index, i.e. the index is on the very expression Django writes
    # (UPPER(column::text)). The plan at 200,000 invoices is bench/admin_search.py's.
    # No ORDER BY and no plain index scans: otherwise the planner may walk an index in the model's order and
    # filter each row (it did on customers), which says nothing about whether the trigram index could serve.
    query = model._base_manager.filter(**{lookup: "wind"}).order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = _explain(cursor, query)
    assert f"Bitmap Index Scan on {index}" in plan, plan


def _explain(cursor, queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    cursor.execute(f"EXPLAIN {sql}", params)
    return "\n".join(row[0] for row in cursor.fetchall())
