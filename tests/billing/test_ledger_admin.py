import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import CreditNote, CreditNoteLine, Invoice, Payment, RetainerInvoice, SalesOrder, Subscription
from billing.services import LineInput, allocate_payment, apply_credit_note, create_sales_order
from tests.factories import (
    CreditNoteFactory,
    CustomerFactory,
    CustomerGroupFactory,
    InvoiceFactory,
    ItemFactory,
    PaymentFactory,
    PriceListItemFactory,
    RetainerInvoiceFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

MARCH_1 = date(2026, 3, 1)  # before the payments these tests record on 5 March


@pytest.mark.parametrize("model", [Invoice, RetainerInvoice, Payment, CreditNote, SalesOrder, Subscription])
def test_every_ledger_changelist_and_change_page_opens(staff, model):
    obj = {
        Invoice: InvoiceFactory,
        RetainerInvoice: RetainerInvoiceFactory,
        Payment: PaymentFactory,
        CreditNote: CreditNoteFactory,
        Subscription: SubscriptionFactory,
        SalesOrder: lambda: create_sales_order(
            customer=CustomerFactory(), lines=[LineInput(description="Router", rate=Decimal("9.00"))]
        ),
    }[model]()
    info = model._meta.app_label, model._meta.model_name

    listing = staff.get(reverse(f"admin:{info[0]}_{info[1]}_changelist"))
    page = staff.get(reverse(f"admin:{info[0]}_{info[1]}_change", args=[obj.pk]))

    assert listing.status_code == 200
    assert page.status_code == 200


def test_an_invoice_added_in_the_admin_is_numbered_and_priced_from_the_customers_terms(staff):
    customer = CustomerFactory(group=CustomerGroupFactory(discount_percent=Decimal("10.00"), payment_terms_days=20))
    item = ItemFactory(rate=Decimal("33.35"))
    form = {
        "customer": customer.pk,
        "issued_on": "2026-03-02",
        "due_on": "",
        "reference": "PO-9",
        "allow_partial_payments": "on",
        "notes": "",
        "terms": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-item": item.pk,
        "lines-0-description": "",
        "lines-0-quantity": "3",
        "lines-0-rate": "",
        "lines-0-discount_percent": "",
        "lines-0-tax_percent": "",
        **{
            f"{prefix}-{k}": v
            for prefix in ("allocations", "credit_applications", "retainers_applied")
            for k, v in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
        },
    }

    response = staff.post(reverse("admin:billing_invoice_add"), form)

    invoice = Invoice.objects.get()
    assert response.status_code == 302, response.context["errors"] if response.context else response
    assert (invoice.number, invoice.status, invoice.due_on) == ("INV-00001", Invoice.Status.DRAFT, date(2026, 3, 22))
    assert (invoice.total, invoice.balance_due) == (Decimal("90.05"), Decimal("90.05"))


def test_the_send_action_sends_drafts_and_the_void_action_reports_a_refusal(staff):
    draft = InvoiceFactory(draft=True)
    paid = InvoiceFactory(total=Decimal("40.00"), balance_due=Decimal("0.00"), status=Invoice.Status.PAID)
    PaymentFactory(customer=paid.customer, amount=Decimal("40.00"), unallocated=Decimal("0.00")).allocations.create(
        invoice=paid, amount=Decimal("40.00"), payer_customer=paid.customer, invoice_customer=paid.customer
    )
    url = reverse("admin:billing_invoice_changelist")

    staff.post(url, {"action": "send_selected", "_selected_action": [draft.pk]})
    response = staff.post(url, {"action": "void_selected", "_selected_action": [paid.pk]}, follow=True)

    assert Invoice.objects.get(pk=draft.pk).status == Invoice.Status.SENT
    assert "can&#x27;t be voided" in response.content.decode()
    assert Invoice.objects.get(pk=paid.pk).status == Invoice.Status.PAID


def test_recording_an_offline_head_office_payment_spreads_it_over_branch_invoices(staff):
    parent = CustomerFactory()
    first = InvoiceFactory(customer=CustomerFactory(parent=parent), total=Decimal("60.00"), issued_on=MARCH_1)
    second = InvoiceFactory(customer=CustomerFactory(parent=parent), total=Decimal("70.00"), issued_on=MARCH_1)
    url = reverse("admin:billing_payment_record") + f"?customer={parent.pk}"

    response = staff.post(
        url,
        {
            "amount": "100.00",
            "paid_on": "2026-03-05",
            "method": "cheque",
            "reference": "CHQ 7",
            "notes": "",
            f"alloc_{first.pk}": "60.00",
            f"alloc_{second.pk}": "25.50",
        },
    )

    payment = Payment.objects.get()
    assert response.status_code == 302
    assert (payment.customer, payment.unallocated, payment.recorded_by is not None) == (parent, Decimal("14.50"), True)
    assert Invoice.objects.get(pk=second.pk).balance_due == Decimal("44.50")


def test_an_over_allocation_in_the_record_payment_page_shows_the_services_message_and_writes_nothing(staff):
    invoice = InvoiceFactory(total=Decimal("60.00"))
    url = reverse("admin:billing_payment_record") + f"?customer={invoice.customer.pk}"

    response = staff.post(
        url, {"amount": "100.00", "paid_on": "2026-03-05", "method": "cash", f"alloc_{invoice.pk}": "60.01"}
    )

    assert response.status_code == 200
    assert "has only 60.00 USD left to pay" in response.content.decode()
    assert not Payment.objects.exists()


def test_a_credit_note_is_applied_to_a_branch_invoice_from_its_page(staff):
    parent = CustomerFactory()
    invoice = InvoiceFactory(customer=CustomerFactory(parent=parent), total=Decimal("80.00"))
    note = CreditNoteFactory(customer=parent, total=Decimal("30.00"))

    response = staff.post(
        reverse("admin:billing_creditnote_apply", args=[note.pk]), {"invoice": invoice.pk, "amount": "30.00"}
    )

    assert response.status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).balance_due == Decimal("50.00")


def test_payments_cannot_be_deleted_or_edited_in_the_admin(staff):
    payment = PaymentFactory()

    page = staff.get(reverse("admin:billing_payment_change", args=[payment.pk]))
    delete = staff.get(reverse("admin:billing_payment_delete", args=[payment.pk]))

    assert 'name="_save"' not in page.content.decode()
    assert delete.status_code == 403


def test_the_customer_statement_page_shows_opening_and_closing_balances(staff):
    customer = CustomerFactory(display_name="Northwind Boston")
    InvoiceFactory(customer=customer, issued_on=date(2026, 2, 1), due_on=date(2026, 3, 1), total=Decimal("12.34"))

    response = staff.get(
        reverse("admin:billing_customer_statement", args=[customer.pk]), {"start": "2026-03-01", "end": "2026-03-31"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Northwind Boston" in body and "12.34" in body


def test_the_consolidated_customer_statement_shows_the_portal_pages_per_account_columns(staff):
    """A parent paying its branch's invoice is no invoicing of the parent and no payment of the branch: the
    per-account table has the portal page's columns (`account_columns`), each row adding up."""
    from billing.selectors.statements import LineKind
    from billing.services import link_to_parent
    from tests.billing.statement_ledger import _invoice, _pay

    parent = CustomerFactory(display_name="Head Office")
    branch = CustomerFactory(display_name="North Branch")
    link_to_parent(customer=branch, parent=parent)
    own = _invoice(parent, date(2026, 3, 2), "1560.00")
    theirs = _invoice(branch, date(2026, 3, 3), "920.00")
    _pay(parent, date(2026, 3, 10), "2480.00", {own: "1560.00", theirs: "920.00"})

    response = staff.get(
        reverse("admin:billing_customer_statement", args=[parent.pk]),
        {"start": "2026-03-01", "end": "2026-03-31", "branches": "1"},
    )

    body = re.sub(r"\s+", " ", response.content.decode())
    table = body[body.index('class="statement per-account"') :]
    headings = ["Account", "Opening", *(LineKind.HEADINGS[k] for k in LineKind.COLUMNS if k != LineKind.CREDIT_NOTE
                                        and k != LineKind.REFUND), "Closing"]
    assert re.search(r"</th>\s*<th[^>]*>".join(headings), table)
    cells = r'</td>\s*<td class="num">'
    assert re.search(rf'<th>Head Office</th><td class="num">0.00{cells}1,560.00{cells}−2,480.00{cells}0.00{cells}'
                     rf"920.00{cells}0.00</td>", table)
    assert re.search(rf'<th>North Branch</th><td class="num">0.00{cells}920.00{cells}0.00{cells}−920.00{cells}'
                     rf"0.00{cells}0.00</td>", table)


def test_the_void_action_voids_an_unused_credit_note_and_reports_a_used_one(staff):
    unused = CreditNoteFactory(total=Decimal("50.00"))
    used = CreditNoteFactory(total=Decimal("30.00"))
    invoice = InvoiceFactory(customer=used.customer)
    apply_credit_note(credit_note=used, applications={invoice.pk: Decimal("10.00")})

    response = staff.post(
        reverse("admin:billing_creditnote_changelist"),
        {"action": "void_selected", "_selected_action": [unused.pk, used.pk]},
        follow=True,
    )

    body = response.content.decode()
    assert CreditNote.objects.get(pk=unused.pk).status == CreditNote.Status.VOID
    assert CreditNote.objects.get(pk=used.pk).status == CreditNote.Status.OPEN
    assert "1 credit note(s) voided" in body and "10.00 USD of it was applied" in body


def test_allocating_part_of_an_invoice_that_disallows_partial_payments_is_recorded_with_a_warning(staff):
    invoice = InvoiceFactory(total=Decimal("60.00"), allow_partial_payments=False, issued_on=MARCH_1)
    url = reverse("admin:billing_payment_record") + f"?customer={invoice.customer.pk}"

    response = staff.post(
        url,
        {"amount": "25.00", "paid_on": "2026-03-05", "method": "cheque", f"alloc_{invoice.pk}": "25.00"},
        follow=True,
    )

    body = response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).balance_due == Decimal("35.00")
    assert 'class="warning"' in body
    assert f"Invoice {invoice.number} does not allow partial payments" in body


def test_paying_an_invoice_that_disallows_partial_payments_in_full_gives_no_warning(staff):
    invoice = InvoiceFactory(total=Decimal("60.00"), allow_partial_payments=False, issued_on=MARCH_1)
    url = reverse("admin:billing_payment_record") + f"?customer={invoice.customer.pk}"

    response = staff.post(
        url,
        {"amount": "60.00", "paid_on": "2026-03-05", "method": "cheque", f"alloc_{invoice.pk}": "60.00"},
        follow=True,
    )

    assert "does not allow partial payments" not in response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID


def _credit_rows(*rows):
    data = {"rows": str(len(rows))}
    for i, row in enumerate(rows):
        data.update({f"line-{i}-{k}": v for k, v in row.items()})
    return data


def test_staff_issue_a_free_standing_credit_note_priced_from_the_customers_price(staff):
    listed = PriceListItemFactory(rate=Decimal("19.99"), item__tax_percent=Decimal("5.00"))
    customer = CustomerFactory(group=CustomerGroupFactory(price_list=listed.price_list))

    response = staff.post(
        reverse("admin:billing_creditnote_create"),
        {
            "customer": customer.pk,
            "issued_on": "2026-03-09",
            "reason": "Goodwill",
            **_credit_rows(
                {"item": listed.item.pk, "quantity": "3"},
                {"description": "Late delivery", "quantity": "1", "rate": "10.00", "tax_percent": ""},
                {"quantity": "1"},
            ),
        },
    )

    note = CreditNote.objects.get()
    assert response.status_code == 302
    assert (note.customer, note.reason, note.issued_on, note.invoice) == (customer, "Goodwill", date(2026, 3, 9), None)
    assert [(line.rate, line.amount) for line in note.lines.all()] == [
        (Decimal("19.99"), Decimal("59.97")),
        (Decimal("10.00"), Decimal("10.00")),
    ]
    assert (note.tax_total, note.total, note.balance) == (Decimal("3.00"), Decimal("72.97"), Decimal("72.97"))


def test_a_credit_note_line_without_rate_or_item_is_refused_next_to_the_field_and_nothing_is_written(staff):
    customer = CustomerFactory()

    response = staff.post(
        reverse("admin:billing_creditnote_create"),
        {"customer": customer.pk, "issued_on": "2026-03-09", **_credit_rows({"description": "X", "quantity": "1"})},
    )

    assert response.status_code == 200
    assert "Enter a rate, or choose an item" in response.content.decode()
    assert not CreditNote.objects.exists()


def test_a_credit_note_without_lines_or_with_a_bad_date_is_refused_and_nothing_is_written(staff):
    customer = CustomerFactory()
    url = reverse("admin:billing_creditnote_create")

    no_lines = staff.post(url, {"customer": customer.pk, "issued_on": "2026-03-09", "rows": "3"})
    bad_date = staff.post(url, {"customer": customer.pk, "issued_on": "2026-02-30", "rows": "x"})

    assert "Add at least one line." in no_lines.content.decode()
    assert bad_date.status_code == 200 and "Enter a valid date." in bad_date.content.decode()
    assert not CreditNote.objects.exists()


def test_the_invoice_page_links_to_a_credit_note_prefilled_with_its_customer_and_lines(staff):
    invoice = InvoiceFactory(total=Decimal("240.00"), customer__display_name="Northwind Boston")

    page = staff.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
    create_url = reverse("admin:billing_creditnote_create") + f"?invoice={invoice.pk}"
    form = staff.get(create_url)

    assert create_url.replace("&", "&amp;") in page.content.decode()
    body = form.content.decode()
    assert "Northwind Boston" in body and "at most $240.00 more" in body
    assert f'name="inv-{invoice.lines.get().pk}-quantity" value="1"' in body


def test_part_of_an_invoice_is_credited_from_its_lines(staff):
    invoice = InvoiceFactory(total=Decimal("240.00"))
    line = invoice.lines.get()

    response = staff.post(
        reverse("admin:billing_creditnote_create") + f"?invoice={invoice.pk}",
        {
            "issued_on": "2026-03-09",
            "reason": "Returned",
            f"inv-{line.pk}-quantity": "1",
            f"inv-{line.pk}-rate": "40.00",
        },
    )

    note = CreditNote.objects.get()
    assert response.status_code == 302
    assert (note.invoice, note.customer, note.total) == (invoice, invoice.customer, Decimal("40.00"))


def test_crediting_more_than_was_invoiced_is_refused_on_the_line_and_nothing_is_written(staff):
    invoice = InvoiceFactory(total=Decimal("240.00"))
    line = invoice.lines.get()
    url = reverse("admin:billing_creditnote_create") + f"?invoice={invoice.pk}"

    response = staff.post(
        url, {"issued_on": "2026-03-09", f"inv-{line.pk}-quantity": "2", f"inv-{line.pk}-rate": "240.00"}
    )

    assert response.status_code == 200
    assert "At most 1: that is the invoiced quantity." in response.content.decode()
    assert not CreditNote.objects.exists()


def test_credits_beyond_what_is_left_of_the_invoice_show_the_services_figures(staff):
    invoice = InvoiceFactory(total=Decimal("100.00"))
    line = invoice.lines.get()
    CreditNoteFactory(customer=invoice.customer, invoice=invoice, total=Decimal("70.00"))
    url = reverse("admin:billing_creditnote_create") + f"?invoice={invoice.pk}"

    response = staff.post(
        url, {"issued_on": "2026-03-09", f"inv-{line.pk}-quantity": "1", f"inv-{line.pk}-rate": "30.01"}
    )

    assert response.status_code == 200
    assert "70.00 is already credited; a further 30.01 is too much" in response.content.decode()
    assert CreditNote.objects.count() == 1


@pytest.mark.parametrize("query", ["?invoice=abc", "?invoice=999999", "?invoice=-1"])
def test_a_malformed_or_unknown_invoice_in_the_credit_note_url_is_a_404(staff, query):
    response = staff.get(reverse("admin:billing_creditnote_create") + query)

    assert response.status_code == 404


def test_a_draft_invoice_is_not_credited_and_the_page_says_why(staff):
    invoice = InvoiceFactory(draft=True)

    response = staff.get(reverse("admin:billing_creditnote_create") + f"?invoice={invoice.pk}", follow=True)

    assert "only sent invoices are credited" in response.content.decode()


def _order_form(customer, *rows, **extra):
    return {
        "customer": customer.pk,
        "ordered_on": "2026-03-02",
        "expected_shipment_on": "",
        "reference": "PO-12",
        "notes": "",
        **_credit_rows(*rows),
        **extra,
    }


def test_staff_create_a_draft_sales_order_priced_from_the_customers_price_list_and_discount(staff):
    listed = PriceListItemFactory(rate=Decimal("42.50"))
    customer = CustomerFactory(
        group=CustomerGroupFactory(price_list=listed.price_list, discount_percent=Decimal("10.00"))
    )

    response = staff.post(
        reverse("admin:billing_salesorder_create"),
        _order_form(customer, {"item": listed.item.pk, "quantity": "2"}, {"quantity": "1"}, _save="Save draft"),
    )

    order = SalesOrder.objects.get()
    assert response.status_code == 302
    assert (order.status, order.reference, order.total) == (SalesOrder.Status.DRAFT, "PO-12", Decimal("76.50"))


def test_a_draft_sales_order_is_edited_then_saved_and_confirmed_and_then_read_only(staff):
    order = create_sales_order(
        customer=CustomerFactory(),
        status=SalesOrder.Status.DRAFT,
        lines=[LineInput(description="A", rate=Decimal("5"))],
    )
    edit_url = reverse("admin:billing_salesorder_edit", args=[order.pk])

    form = staff.get(edit_url)
    staff.post(
        edit_url,
        _order_form(order.customer, {"description": "B", "quantity": "2", "rate": "7.00"}, _confirm="Save and confirm"),
    )
    again = staff.get(edit_url, follow=True)

    order.refresh_from_db()
    assert 'value="A"' in form.content.decode()
    assert (order.status, order.total) == (SalesOrder.Status.CONFIRMED, Decimal("14.00"))
    assert [line.description for line in order.lines.all()] == ["B"]
    assert "only a draft can be edited" in again.content.decode()


def test_a_sales_order_line_error_is_shown_on_the_row_and_nothing_is_written(staff):
    customer = CustomerFactory()

    response = staff.post(
        reverse("admin:billing_salesorder_create"),
        _order_form(customer, {"description": "A", "quantity": "0", "rate": "5.00"}, _save="Save draft"),
    )

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0.001." in response.content.decode()
    assert not SalesOrder.objects.exists()


def test_a_draft_order_is_confirmed_then_converted_from_its_page(staff):
    order = create_sales_order(
        customer=CustomerFactory(),
        status=SalesOrder.Status.DRAFT,
        lines=[LineInput(description="A", rate=Decimal("5"))],
    )

    staff.post(reverse("admin:billing_salesorder_confirm", args=[order.pk]), {"confirm": "1"})
    response = staff.post(reverse("admin:billing_salesorder_convert", args=[order.pk]), {"confirm": "1"}, follow=True)

    order.refresh_from_db()
    invoice = Invoice.objects.get()
    assert (order.status, order.invoiced_status) == (SalesOrder.Status.CONFIRMED, SalesOrder.InvoicedStatus.INVOICED)
    assert (invoice.sales_order, invoice.total) == (order, Decimal("5.00"))
    assert f"Draft invoice {invoice.number} created" in response.content.decode()


def test_converting_a_draft_order_from_its_page_shows_the_refusal(staff):
    order = create_sales_order(
        customer=CustomerFactory(),
        status=SalesOrder.Status.DRAFT,
        lines=[LineInput(description="A", rate=Decimal("5"))],
    )

    response = staff.post(reverse("admin:billing_salesorder_convert", args=[order.pk]), {"confirm": "1"})

    assert response.status_code == 200
    assert "confirm it before invoicing" in response.content.decode()
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/billing/creditnote/create/?invoice=1%00",
        "/admin/billing/creditnote/create/?invoice=99999999999999999999",
        "/admin/billing/payment/record/?customer=abc",
        "/admin/billing/payment/record/?customer=-3",
        "/admin/billing/invoice/statement/999999/",
        "/admin/billing/invoice/statement/1/?start=2026-13-45&end=yesterday&branches=maybe",
        "/admin/billing/invoice/?state=bogus",
        "/admin/billing/invoice/?state=overdue&issued_on__gte=garbage",
        "/admin/billing/invoice/abc/change/",
        "/admin/billing/salesorder/999999/edit/",
        "/admin/billing/salesorder/999999/convert/",
        "/admin/billing/creditnote/999999/apply/",
    ],
)
def test_malformed_back_office_urls_never_answer_500(staff, path):
    CustomerFactory(pk=1)

    response = staff.get(path)

    assert response.status_code < 500


def test_malformed_back_office_forms_are_refused_without_500_and_write_nothing(staff):
    customer = CustomerFactory()
    invoice = InvoiceFactory(customer=customer)

    answers = [
        staff.post(reverse("admin:billing_creditnote_create"), {"customer": "x", "issued_on": "", "rows": "-9"}),
        staff.post(reverse("admin:billing_creditnote_create"), {"customer": customer.pk, "rows": "999999"}),
        staff.post(
            reverse("admin:billing_creditnote_create") + f"?invoice={invoice.pk}",
            {"issued_on": "2026-03-01", f"inv-{invoice.lines.get().pk}-quantity": "NaN"},
        ),
        staff.post(
            reverse("admin:billing_salesorder_create"),
            _order_form(customer, {"item": "999999", "quantity": "1e400", "rate": "-1"}, _save="Save draft"),
        ),
        staff.post(
            reverse("admin:billing_payment_record") + f"?customer={customer.pk}",
            {"amount": "Infinity", "paid_on": "2026-03-01", "method": "gold", f"alloc_{invoice.pk}": "1,5"},
        ),
    ]

    assert [answer.status_code for answer in answers] == [200] * 5
    assert not CreditNote.objects.exists() and not SalesOrder.objects.exists() and not Payment.objects.exists()


@pytest.mark.parametrize("model", ["invoice", "retainerinvoice", "subscription"])
def test_a_malformed_customer_on_a_ledger_add_page_is_an_error_not_a_500(staff, model):
    response = staff.post(reverse(f"admin:billing_{model}_add"), {"customer": "abc", "issued_on": "x"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_invoice_list_filters_overdue_invoices(staff):
    late = InvoiceFactory(issued_on=date(2026, 1, 2), due_on=date(2026, 1, 5))
    current = InvoiceFactory()

    response = staff.get(reverse("admin:billing_invoice_changelist"), {"state": "overdue"})

    body = response.content.decode()
    assert late.number in body and current.number not in body


def test_the_invoice_page_shows_its_figures_with_the_currency_and_overdue_as_the_list_does(staff):
    invoice = InvoiceFactory(issued_on=date(2026, 1, 2), due_on=date(2026, 1, 5), total=Decimal("1367.50"))
    allocate_payment(payment=PaymentFactory(customer=invoice.customer), allocations={invoice.pk: Decimal("67.50")})

    response = staff.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))

    page = response.content.decode()
    assert '<div class="readonly">$1,367.50</div>' in page
    assert '<div class="readonly">$1,300.00</div>' in page
    assert '<div class="readonly">Overdue</div>' in page
    assert page.index(invoice.customer.display_name) < page.index("$1,300.00") < page.index('name="notes"')


def test_the_payment_page_and_list_show_amounts_with_the_currency(staff):
    payment = PaymentFactory(amount=Decimal("2000.00"))
    allocate_payment(payment=payment, allocations={InvoiceFactory(customer=payment.customer).pk: Decimal("100.00")})

    detail = staff.get(reverse("admin:billing_payment_change", args=[payment.pk])).content.decode()
    listing = staff.get(reverse("admin:billing_payment_changelist")).content.decode()

    assert '<div class="readonly">$2,000.00</div>' in detail
    assert '<div class="readonly">$1,900.00</div>' in detail
    assert '<div class="readonly">2000.00</div>' not in detail
    assert '<td class="field-unallocated_shown">$1,900.00</td>' in listing
    assert '<td class="field-refunded_shown">$0.00</td>' in listing


def test_credit_note_and_sales_order_pages_show_their_figures_with_the_currency(staff):
    note = CreditNoteFactory(total=Decimal("1230.00"))
    order = create_sales_order(
        customer=CustomerFactory(), lines=[LineInput(description="Audit", rate=Decimal("1230.00"))]
    )

    pages = [
        staff.get(reverse("admin:billing_creditnote_change", args=[note.pk])).content.decode(),
        staff.get(reverse("admin:billing_salesorder_change", args=[order.pk])).content.decode(),
    ]

    for page in pages:
        assert '<div class="readonly">$1,230.00</div>' in page
        assert '<div class="readonly">1230.00</div>' not in page


def test_payments_credits_and_refunds_listed_on_a_page_show_the_currency(staff):
    invoice = InvoiceFactory(total=Decimal("1500.00"))
    payment = PaymentFactory(customer=invoice.customer, amount=Decimal("1250.00"))
    allocate_payment(payment=payment, allocations={invoice.pk: Decimal("1200.00")})
    apply_credit_note(
        credit_note=CreditNoteFactory(customer=invoice.customer, total=Decimal("300.00")),
        applications={invoice.pk: Decimal("300.00")},
    )

    on_invoice = staff.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()
    on_payment = staff.get(reverse("admin:billing_payment_change", args=[payment.pk])).content.decode()

    on_invoice, on_payment = " ".join(on_invoice.split()), " ".join(on_payment.split())
    assert '"field-amount_shown"> <p>$1,200.00</p>' in on_invoice
    assert '"field-amount_shown"> <p>$300.00</p>' in on_invoice
    assert '"field-amount_shown"> <p>$1,200.00</p>' in on_payment


def _cell(page: str, column: str) -> list[str]:
    return re.findall(rf'class="field-{column}">\s*<p>(.*?)</p>', page)


def test_document_lines_show_rate_amount_and_tax_in_the_document_currency(staff):
    invoice = InvoiceFactory(customer__currency="EUR", total=Decimal("1367.50"))
    order = SalesOrderFactory(customer__currency="GBP")
    SalesOrderLineFactory(sales_order=order, quantity=Decimal("2"), rate=Decimal("1250.00"), amount=Decimal("2500.00"))
    note = CreditNoteFactory(customer__currency="EUR")
    CreditNoteLine.objects.create(credit_note=note, description="Late delivery", quantity=Decimal("1"),
                                  rate=Decimal("50.00"), amount=Decimal("50.00"), tax_amount=Decimal("9.50"))

    on_invoice = staff.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()
    on_order = staff.get(reverse("admin:billing_salesorder_change", args=[order.pk])).content.decode()
    on_note = staff.get(reverse("admin:billing_creditnote_change", args=[note.pk])).content.decode()

    assert (_cell(on_invoice, "rate_shown"), _cell(on_invoice, "amount_shown")[:1]) == (["€1,367.50"], ["€1,367.50"])
    assert _cell(on_invoice, "tax_amount_shown") == ["€0.00"]
    assert (_cell(on_order, "rate_shown"), _cell(on_order, "amount_shown")) == (["£1,250.00"], ["£2,500.00"])
    assert (_cell(on_note, "rate_shown"), _cell(on_note, "tax_amount_shown")) == (["€50.00"], ["€9.50"])


def test_a_draft_invoice_keeps_its_lines_editable_with_the_computed_amounts_in_its_currency(staff):
    invoice = InvoiceFactory(draft=True, customer__currency="EUR", total=Decimal("100.00"))

    page = staff.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()

    assert 'name="lines-0-rate"' in page and 'name="lines-1-rate"' in page  # the line, and a blank one
    assert _cell(page, "amount_shown")[0] == "€100.00"
    assert not _cell(page, "rate_shown")
