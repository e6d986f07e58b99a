"""Every money block a customer sees adds up as printed, on the page and in the PDF: the figures are read
back from the HTML and from the PDF's text, never taken from the objects that were rendered."""

import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from billing.money import ZERO
from billing.selectors.balances import balance_payable
from billing.services import (
    LineInput,
    apply_credit_note,
    create_invoice,
    create_sales_order,
    link_to_parent,
    record_payment,
    refund_payment,
    send_invoice,
)
from tests.factories import ContactPersonFactory, CreditNoteFactory, CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

MONEY = r"[−-]?\$[\d,]+\.\d\d(?: credit)?"


def _amount(text: str) -> Decimal:
    """"$1,234.50" -> 1234.50; "−$5.00" and "$940.00 credit" are negative."""
    text = text.strip()
    value = Decimal(re.sub(r"[^\d.]", "", text))
    return -value if text.startswith(("−", "-")) or text.endswith("credit") else value


def _cells(html: str) -> list[str]:
    """The text of each <th>/<td> of a chunk of HTML, tags stripped."""
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", html, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def _table(html: str, marker: str) -> str:
    """The first <table> after `marker`."""
    at = html.index(marker)
    start = html.index("<table", at)
    return html[start:html.index("</table>", start)]


def _totals(html: str, after: str = "") -> dict[str, Decimal]:
    """The label -> amount rows of the first `table class="totals"` (after `after`)."""
    at = html.index(after) if after else 0
    start = html.index('<table class="totals"', at)
    block = html[start:html.index("</table>", start)]
    rows = re.findall(r"<tr[^>]*>\s*<th[^>]*>(.*?)</th>\s*<td[^>]*>(.*?)</td>", block, re.S)
    return {re.sub(r"<[^>]+>", "", label).strip(): _amount(re.sub(r"<[^>]+>", "", value)) for label, value in rows}


def _pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    pdf = b"".join(response.streaming_content) if response.streaming else response.content
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _pdf_figure(text: str, label: str) -> Decimal:
    """The amount printed right after `label` on a line of the PDF's text."""
    match = re.search(rf"^{re.escape(label)}\s+({MONEY})\s*$", text, re.M)
    assert match, f"no line {label!r} in:\n{text}"
    return _amount(match.group(1))


# --- Home: the per-account rows add up to the total; Balance payable follows the payer rule --------------


@pytest.fixture
def parent_with_credit():
    """The tester's case: the head office holds 940.00 of credit and owes nothing; its branches owe
    1,000.00 and 137.50. Rows: −940.00, 1,000.00, 137.50; total 197.50, all payable by the parent's credit."""
    contact = ContactPersonFactory(customer__display_name="Acme Head Office")
    parent = contact.customer
    east, west = CustomerFactory(display_name="Acme East"), CustomerFactory(display_name="Acme West")
    link_to_parent(customer=east, parent=parent)
    link_to_parent(customer=west, parent=parent)
    InvoiceFactory(customer=east, total=Decimal("1000.00"))
    InvoiceFactory(customer=west, total=Decimal("137.50"))
    record_payment(customer=parent, amount=Decimal("940.00"), paid_on=timezone.localdate(), method="bank_transfer")
    return contact


def _breakdown(html: str) -> tuple[list[list[str]], list[str]]:
    table = _table(html, 'id="breakdown-h"')
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    rows = [_cells(row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return rows, _cells(table[table.index("<tfoot>"):])


def test_home_by_account_rows_add_up_to_the_total_and_the_parents_credit_shows_as_a_credit(
    client, parent_with_credit
):
    client.force_login(parent_with_credit.user)

    html = client.get("/").content.decode()

    rows, total = _breakdown(html)
    named = {row[0].replace(" You", ""): row for row in rows}
    assert named["Acme Head Office"][4] == "$940.00 credit"
    for column in range(1, 6):  # outstanding, credits, retainer payments, net balance, retainers due
        assert sum((_amount(row[column]) for row in rows), ZERO) == _amount(total[column]), column
    for row in [*rows, total]:  # each row: outstanding − credits − retainer payments = net balance
        assert _amount(row[1]) + _amount(row[2]) + _amount(row[3]) == _amount(row[4])
    assert _amount(total[4]) == Decimal("197.50")
    assert 'data-figure="balance_payable">$197.50<' in html


def _payable_sum(html: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(outstanding, credits, retainer payments, balance payable) of the line explaining Balance payable."""
    line = re.search(r"<p[^>]*data-payable-sum>(.*?)</p>", html, re.S).group(1)
    match = re.search(rf"Outstanding invoices ({MONEY}) − credits ({MONEY}) − retainer payments ({MONEY}) "
                      rf"= Balance payable ({MONEY})\.", line)
    assert match, line
    return tuple(_amount(figure) for figure in match.groups())


def test_home_explains_balance_payable_as_a_sum_that_adds_up(client, parent_with_credit):
    client.force_login(parent_with_credit.user)

    html = client.get("/").content.decode()

    outstanding, credits, retainers, payable = _payable_sum(html)
    assert outstanding - credits - retainers == payable == Decimal("197.50")
    assert f'data-figure="balance_payable">${payable}<' in html


def test_a_branchs_credit_is_not_counted_against_the_parents_or_a_siblings_invoices(client):
    contact = ContactPersonFactory(customer__display_name="Acme Head Office")
    parent = contact.customer
    east, west = CustomerFactory(display_name="Acme East"), CustomerFactory(display_name="Acme West")
    link_to_parent(customer=east, parent=parent)
    link_to_parent(customer=west, parent=parent)
    InvoiceFactory(customer=parent, total=Decimal("500.00"))
    InvoiceFactory(customer=east, total=Decimal("100.00"))
    InvoiceFactory(customer=west, total=Decimal("50.00"))
    # East's 300.00 can pay East's 100.00 only: not the head office's 500.00, not West's 50.00.
    record_payment(customer=east, amount=Decimal("300.00"), paid_on=timezone.localdate(), method="bank_transfer")
    client.force_login(contact.user)

    html = client.get("/").content.decode()

    assert _payable_sum(html) == (Decimal("650.00"), Decimal("100.00"), Decimal("0.00"), Decimal("550.00"))
    assert 'data-figure="balance_payable">$550.00<' in html
    not_counted = re.search(r"<span data-not-counted>(.*?)</span>", html, re.S).group(1)
    assert not_counted.startswith("$200.00 of available credits")


def test_a_credit_pays_its_own_and_its_branches_invoices_never_up_or_across_the_tree():
    # head (owes 10) ─ a (owes 0, credit 100) ─ a1 (owes 30), a2 (owes 20, retainer payment 5)
    #                └ b (owes 40, credit 15)
    accounts = [
        (1, None, Decimal("10.00"), ZERO, ZERO),
        (2, 1, ZERO, Decimal("100.00"), ZERO),
        (3, 2, Decimal("30.00"), ZERO, ZERO),
        (4, 2, Decimal("20.00"), ZERO, Decimal("5.00")),
        (5, 1, Decimal("40.00"), Decimal("15.00"), ZERO),
    ]

    payable = balance_payable(accounts=accounts, currency="USD")

    # a2's retainer payment pays 5 of its 20; a's credit the other 15 and a1's 30 (45 of 100); b's 15 of its 40
    assert payable.retainer_payments_counted == Decimal("5.00")
    assert payable.credits_counted == Decimal("60.00")
    assert payable.credits_not_counted == Decimal("55.00")
    assert payable.balance_payable == Decimal("35.00")  # head's 10 and b's remaining 25
    assert (payable.outstanding_invoices - payable.credits_counted - payable.retainer_payments_counted
            == payable.balance_payable)


def test_a_single_customer_with_more_credit_than_it_owes_pays_nothing_and_keeps_the_rest():
    payable = balance_payable(accounts=[(7, 3, Decimal("10.00"), Decimal("25.00"), Decimal("5.00"))],
                              currency="USD")

    assert (payable.credits_counted, payable.retainer_payments_counted, payable.balance_payable) == (
        Decimal("10.00"), ZERO, ZERO)
    assert payable.not_counted == Decimal("20.00")


# --- Invoices with a discount: Subtotal − Discount + Tax = Total, on the page and in the PDF ----------------


@pytest.fixture
def discounted_invoice():
    contact = ContactPersonFactory()
    invoice = create_invoice(customer=contact.customer, lines=[
        LineInput(description="Audit", quantity=Decimal("3"), rate=Decimal("30.30"), discount_percent=Decimal("50"),
                  tax_percent=Decimal("14")),
        LineInput(description="Travel", quantity=Decimal("1"), rate=Decimal("10.01"), discount_percent=Decimal("15"),
                  tax_percent=Decimal("7")),
    ])
    send_invoice(invoice=invoice)
    return contact, invoice


def test_a_discounted_invoice_page_prints_subtotal_before_discount_so_the_totals_add_up(client, discounted_invoice):
    contact, invoice = discounted_invoice
    client.force_login(contact.user)

    html = client.get(f"/invoices/{invoice.pk}/").content.decode()

    totals = _totals(html)
    assert totals["Subtotal"] + totals["Discount"] + totals["Tax"] == totals["Total"]
    assert totals["Discount"] == -invoice.discount_total != ZERO
    lines = re.findall(r'<tbody>(.*?)</tbody>', _table(html, 'id="lines-h"') + "</table>", re.S)[0]
    amounts = [_amount(_cells(row)[-1]) for row in re.findall(r"<tr>(.*?)</tr>", lines, re.S)]
    assert sum(amounts, ZERO) == totals["Subtotal"] == Decimal("100.91")  # 90.90 + 10.01, before discounts
    assert totals["Total"] == invoice.total


def test_a_discounted_invoice_pdf_prints_subtotal_before_discount_so_the_totals_add_up(client, discounted_invoice):
    contact, invoice = discounted_invoice
    client.force_login(contact.user)

    text = _pdf_text(client.get(f"/invoices/{invoice.pk}/pdf/"))

    subtotal, discount = _pdf_figure(text, "Subtotal"), _pdf_figure(text, "Discount")
    tax, total = _pdf_figure(text, "Tax"), _pdf_figure(text, "Total")
    assert subtotal + discount + tax == total == invoice.total
    assert subtotal == Decimal("100.91")


def test_a_discounted_sales_order_page_and_pdf_print_totals_that_add_up(client, discounted_invoice):
    contact, _invoice = discounted_invoice
    order = create_sales_order(customer=contact.customer, lines=[
        LineInput(description="Router", quantity=Decimal("3"), rate=Decimal("30.30"), discount_percent=Decimal("50"),
                  tax_percent=Decimal("14")),
    ])
    client.force_login(contact.user)

    totals = _totals(client.get(f"/sales-orders/{order.pk}/").content.decode())
    text = _pdf_text(client.get(f"/sales-orders/{order.pk}/pdf/"))

    assert totals["Subtotal"] + totals["Discount"] + totals["Tax"] == totals["Total"] == order.total
    assert (_pdf_figure(text, "Subtotal") + _pdf_figure(text, "Discount") + _pdf_figure(text, "Tax")
            == _pdf_figure(text, "Total") == order.total)


def test_staff_see_the_invoice_subtotal_before_discount_in_the_admin(client, discounted_invoice, staff_user):
    _contact, invoice = discounted_invoice
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)

    html = client.get(f"/admin/billing/invoice/{invoice.pk}/change/").content.decode()

    shown = {label: _amount(value) for label, value in re.findall(
        rf'<label>(Subtotal \(before discount\)|Discount|Tax|Total):</label>\s*<div class="readonly">({MONEY})',
        html)}
    assert shown["Subtotal (before discount)"] - shown["Discount"] + shown["Tax"] == shown["Total"] == invoice.total


# --- Refunds: applied rows are net of reversals, receipts net of refunds -----------------------------------


@pytest.fixture
def refunded():
    """A 60.00 payment applied 30.00 + 24.45 to two invoices (5.55 left as credit), then 40.00 of it refunded:
    5.55 from the credit, 34.45 taken back from the allocations newest first (all of the second invoice's 24.45,
    10.00 of the first's)."""
    contact = ContactPersonFactory()
    customer = contact.customer
    first = InvoiceFactory(customer=customer, total=Decimal("30.00"))
    second = InvoiceFactory(customer=customer, total=Decimal("50.00"))
    credit = CreditNoteFactory(customer=customer, total=Decimal("10.00"))
    apply_credit_note(credit_note=credit, applications={second.pk: Decimal("10.00")})
    payment = record_payment(customer=customer, amount=Decimal("60.00"), paid_on=timezone.localdate(),
                             method="bank_transfer", allocations={first.pk: Decimal("30.00"),
                                                                  second.pk: Decimal("24.45")})
    refund_payment(payment=payment, amount=Decimal("40.00"))
    for document in (first, second, payment):
        document.refresh_from_db()
    return dict(contact=contact, first=first, second=second, payment=payment)


def _applied_rows(html: str) -> tuple[list[Decimal], Decimal]:
    table = _table(html, 'id="applied-h"')
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    rows = [_amount(_cells(row)[-1]) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return rows, _amount(_cells(table[table.index("<tfoot>"):])[-1])


def _stat(html: str, title: str) -> Decimal:
    return _amount(re.search(rf"<dt>{title}</dt><dd>([^<]+)</dd>", html).group(1))


@pytest.mark.parametrize("which", ["first", "second"])
def test_an_invoice_page_lists_payments_net_of_refunds_and_they_add_up_to_what_it_shows_paid(
    client, refunded, which
):
    invoice = refunded[which]
    client.force_login(refunded["contact"].user)

    html = client.get(f"/invoices/{invoice.pk}/").content.decode()

    rows, total_applied = _applied_rows(html)
    paid, due, total = _stat(html, "Paid"), _stat(html, "Balance due"), _stat(html, "Total")
    assert sum(rows, ZERO) == total_applied == paid
    assert paid + due == total
    totals = _totals(html)
    assert totals["Total"] + totals["Paid and credited"] == totals["Balance due"] == due


def test_an_invoice_whose_payment_was_refunded_in_full_no_longer_lists_that_payment(client, refunded):
    second, payment = refunded["second"], refunded["payment"]
    client.force_login(refunded["contact"].user)

    html = client.get(f"/invoices/{second.pk}/").content.decode()

    assert second.balance_due == Decimal("40.00")  # 50.00 − the credit note's 10.00
    assert payment.number not in _table(html, 'id="applied-h"')


@pytest.mark.parametrize("which", ["first", "second"])
def test_an_invoice_pdf_lists_payments_net_of_refunds_and_they_add_up(client, refunded, which):
    invoice = refunded[which]
    client.force_login(refunded["contact"].user)

    text = _pdf_text(client.get(f"/invoices/{invoice.pk}/pdf/"))

    applied = text[text.index("PAYMENTS AND CREDITS APPLIED") if "PAYMENTS AND CREDITS APPLIED" in text
                   else text.index("Payments and credits applied"):]
    rows = [_amount(m) for m in re.findall(rf"^\d{{1,2}} \w{{3}} \d{{4}} .*?({MONEY})\s*$", applied, re.M)]
    total_applied = _pdf_figure(applied, "Total applied")
    assert sum(rows, ZERO) == total_applied == invoice.amount_paid
    assert _pdf_figure(text, "Total") + _pdf_figure(text, "Paid and credited") == _pdf_figure(text, "Balance due")
    assert _pdf_figure(text, "Balance due") == invoice.balance_due


def _receipt_rows(html: str) -> list[Decimal]:
    table = _table(html, 'id="paid-h"')
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    return [_amount(re.sub(r"\(partly refunded\)", "", _cells(row)[-1])) for row in re.findall(r"<tr>(.*?)</tr>",
                                                                                                  body, re.S)]


def test_a_receipt_page_shows_applied_net_of_refunds_so_applied_refunded_and_unused_make_the_amount(
    client, refunded
):
    payment = refunded["payment"]
    client.force_login(refunded["contact"].user)

    html = client.get(f"/payments/{payment.pk}/").content.decode()

    rows = _receipt_rows(html)
    totals = _totals(html, after='id="paid-h"')
    assert sum(rows, ZERO) == totals["Applied to invoices"] == Decimal("20.00")
    assert (totals["Applied to invoices"] + totals["Refunded"] + totals.get("Not yet applied (available credit)", ZERO)
            == totals["Amount received"] == Decimal("60.00"))


def test_a_receipt_pdf_shows_applied_net_of_refunds_so_the_parts_make_the_amount(client, refunded):
    payment = refunded["payment"]
    client.force_login(refunded["contact"].user)

    text = _pdf_text(client.get(f"/payments/{payment.pk}/receipt.pdf"))

    rows = [_amount(m) for m in re.findall(rf"^{refunded['first'].number} .*?({MONEY})\s*$", text, re.M)]
    assert rows == [Decimal("20.00")]  # the invoice's total, then the amount applied: the last figure
    applied, refunded_amount = _pdf_figure(text, "Applied to invoices"), _pdf_figure(text, "Refunded")
    assert applied + refunded_amount == _pdf_figure(text, "Amount received") == Decimal("60.00")
    assert refunded["second"].number not in text  # refunded in full: nothing of it applied any more


def test_home_last_payment_lists_what_stays_applied_after_a_refund(client, refunded):
    payment = refunded["payment"]
    client.force_login(refunded["contact"].user)

    html = client.get("/").content.decode()

    block = html[html.index('id="last-h"'):html.index('id="details-h"')]
    applied = [_amount(m) for m in re.findall(rf"\(({MONEY})\)", block)]
    refunded_amount = _amount(re.search(r"<dt>Refunded</dt><dd>([^<]+)</dd>", block).group(1))
    assert sum(applied, ZERO) + refunded_amount == payment.amount
