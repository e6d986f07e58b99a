from decimal import Decimal

import pdfplumber
import pytest

from tests.factories import AllocationFactory, ContactPersonFactory, InvoiceFactory, ItemFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

LIST_PAGES = ["/", "/invoices/", "/invoices/?tab=outstanding", "/retainer-invoices/", "/sales-orders/",
              "/sales-orders/?tab=all", "/subscriptions/", "/payments/", "/statement/?period=this_year",
              "/my-details/", "/documents/", "/my-account/"]


def _pdf_text(response) -> str:
    import io

    with pdfplumber.open(io.BytesIO(response.content)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


@pytest.mark.parametrize("path", LIST_PAGES)
def test_every_page_shows_nothing_of_a_branch_closed_to_the_parent(client, head_office, ledger, path):
    client.force_login(head_office["contact"].user)

    response = client.get(path)

    assert response.status_code == 200
    assert "SECRET" not in response.content.decode()
    assert "Private Branch" not in response.content.decode()


def test_home_shows_the_five_figures_consolidated_over_the_visible_branches(client, head_office, ledger):
    client.force_login(head_office["contact"].user)

    page = client.get("/").content.decode()

    # outstanding 300 + 200; credits 10 + 10; retainers due 40 + 40; balance payable 500 - 20
    assert 'data-figure="outstanding_invoices">$500.00<' in page
    assert 'data-figure="available_credits">$20.00<' in page
    assert 'data-figure="outstanding_retainers">$80.00<' in page
    assert 'data-figure="balance_payable">$480.00<' in page
    assert "Shared Branch" in page


def test_home_for_a_single_customer_shows_its_own_figures_and_last_payment(client, ledger, head_office):
    contact = ContactPersonFactory(customer=head_office["shared"], is_primary=False)
    client.force_login(contact.user)

    page = client.get("/").content.decode()

    assert 'data-figure="outstanding_invoices">$200.00<' in page
    assert "SH-REF" in page and "SH-INV-2" in page
    assert "Head Office Ltd" not in page.split("<main")[1].split("</main>")[0]


def test_pay_now_on_home_links_the_payment_flow(client, head_office, ledger):
    client.force_login(head_office["contact"].user)

    page = client.get("/").content.decode()

    assert 'href="/pay/' in page


def test_invoice_list_filters_by_status_and_branch_and_sorts_by_amount(client, head_office, ledger):
    client.force_login(head_office["contact"].user)
    shared = head_office["shared"].pk

    paid_only = client.get("/invoices/?status=paid").content.decode()
    branch_only = client.get(f"/invoices/?branch={shared}").content.decode()
    by_amount = client.get("/invoices/?sort=-total").content.decode()

    assert "HQ-INV-2" in paid_only and "HQ-INV-1" not in paid_only
    assert "SH-INV-1" in branch_only and "HQ-INV-1" not in branch_only
    assert by_amount.index("HQ-INV-1") < by_amount.index("SH-INV-1") < by_amount.index("HQ-INV-2")


def test_a_bad_filter_value_is_reported_not_a_server_error(client, head_office, ledger):
    client.force_login(head_office["contact"].user)

    response = client.get("/invoices/?status=nonsense&date_from=notadate&page=999&branch=abc")

    assert response.status_code == 200
    assert "field-error" in response.content.decode()


def test_invoice_list_paginates(client, head_office):
    InvoiceFactory.create_batch(30, customer=head_office["parent"])
    client.force_login(head_office["contact"].user)

    first = client.get("/invoices/").content.decode()
    second = client.get("/invoices/?page=2").content.decode()

    assert "1–25 of 30" in first
    assert "26–30 of 30" in second


def test_invoice_pdf_has_the_totals_as_text(client, head_office, ledger):
    client.force_login(head_office["contact"].user)

    response = client.get(f"/invoices/{ledger['parent']['invoice'].pk}/pdf/")

    text = _pdf_text(response)
    assert response["Content-Type"] == "application/pdf"
    assert "HQ-INV-1" in text and "Balance due $300.00" in text


def test_payment_receipt_pdf_names_the_invoices_it_paid(client, head_office, ledger):
    client.force_login(head_office["contact"].user)

    text = _pdf_text(client.get(f"/payments/{ledger['shared']['payment'].pk}/receipt.pdf"))

    assert "SH-PAY-1" in text and "SH-INV-2" in text and "$50.00" in text


def test_statement_pdf_for_the_parent_has_no_line_of_the_closed_branch(client, head_office, ledger):
    client.force_login(head_office["contact"].user)

    text = _pdf_text(client.get("/statement/pdf/?period=this_year"))

    assert "HQ-INV-1" in text and "SH-INV-1" in text and "Per-account subtotals" in text
    assert "SECRET" not in text and "Private Branch" not in text


def test_retainer_and_sales_order_pdfs_render(client, head_office, ledger):
    client.force_login(head_office["contact"].user)

    retainer = _pdf_text(client.get(f"/retainer-invoices/{ledger['parent']['retainer'].pk}/pdf/"))
    order = _pdf_text(client.get(f"/sales-orders/{ledger['parent']['order'].pk}/pdf/"))

    assert "HQ-RET-1" in retainer and "$40.00" in retainer
    assert "HQ-SO-1" in order and "$100.00" in order


def test_a_custom_statement_range_ending_before_it_starts_is_refused_with_a_message(client, head_office):
    client.force_login(head_office["contact"].user)

    response = client.get("/statement/?period=custom&start=2026-05-01&end=2026-04-01")

    assert response.status_code == 400
    assert "before the start date" in response.content.decode()


def test_payments_filter_shows_only_retainer_payments(client, head_office, ledger):
    from tests.factories import PaymentFactory

    retainer = ledger["parent"]["retainer"]
    payment = PaymentFactory(customer=head_office["parent"], number="RET-PAYMENT", amount=Decimal("40.00"),
                             unallocated=Decimal("0.00"))
    AllocationFactory(payment=payment, invoice=retainer, amount=Decimal("40.00"))
    client.force_login(head_office["contact"].user)

    page = client.get("/payments/?kind=retainer").content.decode()

    assert "RET-PAYMENT" in page and "HQ-PAY-1" not in page


def test_home_for_a_contact_whose_customer_has_the_portal_turned_off_says_no_access(client):
    contact = ContactPersonFactory(customer__portal_enabled=False)
    client.force_login(contact.user)

    response = client.get("/")

    assert response.status_code == 200
    assert "No portal access" in response.content.decode()


def test_a_subscription_priced_from_the_item_says_so_instead_of_an_empty_amount(client):
    contact = ContactPersonFactory()
    SubscriptionFactory(customer=contact.customer, item=ItemFactory(name="Firewall licence"), plan_name="Firewall")
    SubscriptionFactory(customer=contact.customer, price=Decimal("49.00"), plan_name="Support")
    client.force_login(contact.user)

    page = client.get("/subscriptions/").content.decode()

    assert "Your price for Firewall licence" in page
    assert "$49.00" in page
