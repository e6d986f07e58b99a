"""The statement PDF: short ones in one document, long ones in chunks of whole pages merged into one."""

import datetime as dt
import io
import re
from decimal import Decimal
from types import SimpleNamespace

from pypdf import PdfReader

from billing.selectors.statements import CustomerStatement, LineKind, Statement, StatementLine
from portal.pdf import STATEMENT_SINGLE_MAX_PAGES, render_statement_pdf, statement_pages

ORGANISATION = SimpleNamespace(name="Acme & Sons \"Billing\"", address="500 Market Street\nSan Francisco, CA",
                               email="billing@acme.example", phone="", tax_id="", logo=None)
CUSTOMER = SimpleNamespace(pk=1, display_name="Northwind Holdings", company_name="Northwind Holdings",
                           billing_address="1 Harbour Road\nSeattle, WA")


def _statement(lines: int, *, branches: int = 3) -> Statement:
    """A consolidated statement of `lines` rows over `branches` accounts, opening at 1,000.00."""
    opening = balance = Decimal("1000.00")
    rows, sections = [], []
    for i in range(lines):
        debit, credit = (Decimal("0.00"), Decimal("40.00")) if i % 3 == 2 else (Decimal("100.50"), Decimal("0.00"))
        balance += debit - credit
        description = f"Document DOC-{i:05d} for the services of month {i % 12 + 1} (a long line that wraps)" \
            if i % 50 == 0 else f"Document DOC-{i:05d}"
        rows.append(StatementLine(dt.date(2026, 1, 1) + dt.timedelta(days=i // 4), LineKind.INVOICE, f"DOC-{i:05d}",
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


def _render(statement: Statement) -> list[str]:
    pdf = render_statement_pdf({"statement": statement, "customer": CUSTOMER, "organisation": ORGANISATION,
                                "logo": ""})
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_a_long_statement_is_merged_from_chunks_with_every_row_once_and_page_x_of_y_across_the_document():
    statement = _statement(420)
    planned = statement_pages(statement)
    assert len(planned) > STATEMENT_SINGLE_MAX_PAGES  # long enough for the chunked path

    pages = _render(statement)

    total = len(pages)
    assert total == len(planned)
    assert [re.search(r"Page (\d+) of (\d+)", text).groups() for text in pages] == [
        (str(n), str(total)) for n in range(1, total + 1)
    ]
    assert re.findall(r"DOC-\d{5}", "\n".join(pages)) == [f"DOC-{i:05d}" for i in range(420)]
    assert all(re.search(r"Date\s+Transaction\s+Amount\s+Payments\s+Balance", text) for text in pages[:-1])
    assert "Opening balance" in pages[0] and "1,000.00" in pages[0]
    # 280 invoices of 100.50 and 140 payments of 40.00 on top of 1,000.00
    assert re.search(r"Balance due\s+28,140.00\s+5,600.00\s+23,540.00", pages[-1])
    assert re.search(r"Branch 0\s+1,000.00\s+14,070.00\s+0.00\s+15,070.00", pages[-1])  # rows 0, 3, 6…: invoices
    assert re.search(r"Branch 2\s+0.00\s+0.00\s+5,600.00\s+-5,600.00", pages[-1])  # rows 2, 5, 8…: payments
    assert re.search(r"Total\s+1,000.00\s+28,140.00\s+5,600.00\s+23,540.00", pages[-1])
    assert 'Acme & Sons "Billing" · Statement 1 Jan 2026 – 31 Dec 2026' in pages[0]


def test_a_short_statement_is_one_document_with_its_balances():
    statement = _statement(12, branches=1)

    pages = _render(statement)

    assert len(pages) == 1
    assert "Page 1 of 1" in pages[0]
    assert re.search(r"Balance due\s+804.00\s+160.00\s+1,644.00", pages[0])
    assert "Per-account subtotals" not in pages[0]
