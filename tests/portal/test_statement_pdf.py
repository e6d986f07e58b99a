"""The statement PDF: the invoice's look, columns that line up, every row once, per-account columns that say
what they hold, and long statements rendered in parts within one process."""

import datetime as dt
import io
import re
from decimal import Decimal
from types import SimpleNamespace

import pdfplumber
import pytest
from pypdf import PdfReader

from billing.selectors.statements import CustomerStatement, LineKind, Statement, StatementLine
from billing.services import link_to_parent
from portal.pdf import render_statement_pdf
from portal.pdf.metrics import text_width
from portal.pdf.statement import FONT_PT, PAGES_PER_DOCUMENT, _fit, account_rows, label_width, statement_tables
from tests.factories import AllocationFactory, ContactPersonFactory, CustomerFactory, InvoiceFactory, PaymentFactory

ORGANISATION = SimpleNamespace(name="Acme & Sons \"Billing\"", address="500 Market Street\nSan Francisco, CA",
                               email="billing@acme.example", phone="", tax_id="", logo=None)
CUSTOMER = SimpleNamespace(pk=1, display_name="Northwind Holdings", company_name="Northwind Holdings",
                           billing_address="1 Harbour Road\nSeattle, WA")
AMOUNT = re.compile(r"[−-]?\$[\d,]+\.\d\d")


def _statement(lines: int, *, branches: int = 3) -> Statement:
    """A consolidated statement of `lines` rows over `branches` accounts, opening at 1,000.00."""
    opening = balance = Decimal("1000.00")
    rows, sections = [], []
    for i in range(lines):
        debit, credit = (Decimal("0.00"), Decimal("40.00")) if i % 3 == 2 else (Decimal("100.50"), Decimal("0.00"))
        balance += debit - credit
        description = f"Document DOC-{i:05d} for the services of month {i % 12 + 1} (a long line that wraps)" \
            if i % 50 == 0 else f"Document DOC-{i:05d}"
        kind = LineKind.PAYMENT if credit else LineKind.INVOICE
        rows.append(StatementLine(dt.date(2026, 1, 1) + dt.timedelta(days=i // 4), kind, f"DOC-{i:05d}",
                                  description, i % branches, f"Branch {i % branches}", debit, credit, balance))
    for c in range(branches):
        own = [r for r in rows if r.customer_id == c]
        debits, credits = sum(r.debit for r in own), sum(r.credit for r in own)
        start = opening if c == 0 else Decimal("0.00")
        sections.append(CustomerStatement(c, f"Branch {c}", "USD", start, own, debits, credits,
                                          start + debits - credits))
    return Statement(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31), currency="USD", opening_balance=opening,
                     lines=rows, total_debits=sum(r.debit for r in rows), total_credits=sum(r.credit for r in rows),
                     closing_balance=balance, sections=sections)


def _render(statement: Statement) -> bytes:
    return render_statement_pdf({"statement": statement, "customer": CUSTOMER, "organisation": ORGANISATION,
                                 "logo": ""})


def _texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_a_long_statement_in_parts_has_every_row_once_headings_and_page_x_of_y_on_every_page():
    statement = _statement(2400)
    progress = []

    pdf = render_statement_pdf({"statement": statement, "customer": CUSTOMER, "organisation": ORGANISATION,
                                "logo": ""}, progress=lambda done, total: progress.append((done, total)))

    pages = _texts(pdf)
    total = len(pages)
    assert total > PAGES_PER_DOCUMENT  # long enough to be rendered in two parts and joined
    assert progress == [(PAGES_PER_DOCUMENT, total), (total, total)]
    assert [re.search(r"Page (\d+) of (\d+)", text).groups() for text in pages] == [
        (str(n), str(total)) for n in range(1, total + 1)
    ]
    assert re.findall(r"DOC-\d{5}", "\n".join(pages)) == [f"DOC-{i:05d}" for i in range(2400)]
    assert all(re.search(r"DATE\s+ACCOUNT\s+TRANSACTION\s+AMOUNT\s+PAYMENTS\s+BALANCE", text)
               for text in pages if "DOC-" in text)
    assert "Per-account subtotals" in "".join(pages[-2:])
    assert re.search(r"ACCOUNT\s+OPENING BALANCE\s+OWN INVOICES\s+PAYMENTS AND CREDITS\s+TRANSFERS NET\s+"
                     r"CLOSING BALANCE", pages[-1])
    assert re.search(r"Opening balance\s+\$1,000\.00", pages[0])
    # 1,600 invoices of 100.50 and 800 payments of 40.00 on top of 1,000.00
    assert re.search(r"Balance due\s+\$160,800\.00\s+\$32,000\.00\s+\$129,800\.00", "\n".join(pages[-2:]))
    assert 'Acme & Sons "Billing" · Statement 1 Jan 2026 – 31 Dec 2026 · Northwind Holdings' in pages[0]


def test_a_short_statement_is_one_document_with_its_balances_and_no_per_account_table():
    pages = _texts(_render(_statement(12, branches=1)))

    assert len(pages) == 1
    assert "Page 1 of 1" in pages[0]
    assert re.search(r"Balance due\s+\$804\.00\s+\$160\.00\s+\$1,644\.00", pages[0])
    assert "Per-account subtotals" not in pages[0]


def test_amounts_end_and_texts_start_where_their_column_headings_do_on_every_page():
    pdf = pdfplumber.open(io.BytesIO(_render(_statement(160))))

    off = []
    for page in pdf.pages:
        words = page.extract_words(use_text_flow=True)
        headings = {w["text"]: w for w in words if w["text"] in ("AMOUNT", "PAYMENTS", "BALANCE", "TRANSACTION",
                                                                  "ACCOUNT")}
        if "TRANSACTION" not in headings or any(w["text"] == "OPENING" for w in words):
            continue  # no lines, or the per-account table's columns too
        rows = [w for w in words if w["top"] > headings["TRANSACTION"]["bottom"]]
        for word in rows:
            if word["text"] == "Document":
                off.append(("transaction", word["x0"] - headings["TRANSACTION"]["x0"]))
            elif word["text"] == "Branch":
                off.append(("account", word["x0"] - headings["ACCOUNT"]["x0"]))
            elif AMOUNT.fullmatch(word["text"]):
                column = min(("AMOUNT", "PAYMENTS", "BALANCE"), key=lambda h: abs(headings[h]["x1"] - word["x1"]))
                off.append((column, word["x1"] - headings[column]["x1"]))

    assert {column for column, _gap in off} == {"transaction", "account", "AMOUNT", "PAYMENTS", "BALANCE"}
    assert [(column, round(gap, 2)) for column, gap in off if abs(gap) > 0.3] == []


def test_the_typeface_on_the_page_is_as_wide_as_the_metrics_that_place_the_columns():
    statement = _statement(3, branches=1)
    pdf = pdfplumber.open(io.BytesIO(_render(statement)))

    words = [w for w in pdf.pages[0].extract_words() if w["text"] in ("Document", "DOC-00001", "$1,201.00")]

    assert words
    for word in words:
        assert word["x1"] - word["x0"] == pytest.approx(text_width(word["text"], FONT_PT), abs=0.05)


def test_every_heading_fits_its_column():
    for table in statement_tables(_statement(30)):
        for placed in _fit(table.columns, table.rows):
            assert label_width(placed.column.label) <= placed.right - placed.x + 0.01, placed.column.label


@pytest.mark.django_db
def test_per_account_columns_hold_own_invoices_payments_and_transfers_between_accounts():
    from billing.selectors import customers_under, statement

    parent = ContactPersonFactory(customer__display_name="Head Office").customer
    branch = CustomerFactory(display_name="Branch")
    link_to_parent(customer=branch, parent=parent, allow_parent_access=True)
    on = dt.date(2026, 3, 2)
    InvoiceFactory(customer=parent, issued_on=on, total=Decimal("1560.00"))
    branch_invoice = InvoiceFactory(customer=branch, issued_on=on, total=Decimal("900.00"),
                                    balance_due=Decimal("400.00"), status="partially_paid")
    payment = PaymentFactory(customer=parent, paid_on=on, amount=Decimal("500.00"), unallocated=Decimal("0.00"))
    AllocationFactory(payment=payment, invoice=branch_invoice, amount=Decimal("500.00"), applied_on=on)
    full = statement(customers=customers_under(customer_id=parent.pk), start=dt.date(2026, 3, 1),
                     end=dt.date(2026, 3, 31))

    rows = {row.name: row for row in account_rows(full)}

    assert (rows["Head Office"].invoiced, rows["Head Office"].paid, rows["Head Office"].transfers) == (
        Decimal("1560.00"), Decimal("500.00"), Decimal("500.00"))
    assert (rows["Branch"].invoiced, rows["Branch"].paid, rows["Branch"].transfers) == (
        Decimal("900.00"), Decimal("0.00"), Decimal("-500.00"))
    for row in rows.values():
        assert row.closing == row.opening + row.invoiced - row.paid + row.transfers
    text = _texts(render_statement_pdf({"statement": full, "customer": parent}))[-1]
    assert re.search(r"Head Office\s+\$0\.00\s+\$1,560\.00\s+\$500\.00\s+\$500\.00\s+\$1,560\.00", text)
    assert re.search(r"Branch\s+\$0\.00\s+\$900\.00\s+\$0\.00\s+−\$500\.00\s+\$400\.00", text)
