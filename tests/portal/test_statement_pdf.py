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
from portal.pdf.statement import (
    FONT_PT,
    PAGES_PER_DOCUMENT,
    _fit,
    label_width,
    statement_pages,
    statement_tables,
)
from tests.factories import ContactPersonFactory, CustomerFactory

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
    assert re.search(r"ACCOUNT\s+OPENING\s+INVOICED\s+PAID\s+CLOSING", pages[-1])  # the kinds it has
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


def test_a_per_account_table_that_fits_on_a_page_is_never_split_over_two():
    for lines in range(20, 70):  # the lines end at every height of page one
        pages = statement_pages(_statement(lines, branches=6), top=200.0)
        caption = next(p.number for p in pages for box in p.boxes if box.css == "caption")

        assert caption == len(pages), lines  # the table, its total and its note are on the caption's page


def _per_account_table(pdf: bytes) -> tuple[dict[str, dict[str, Decimal]], str]:
    """The PDF's per-account table as {account: {heading: amount}} read off the page with pdfplumber (each
    amount under the heading whose right edge it shares), and the note under it."""
    page = pdfplumber.open(io.BytesIO(pdf)).pages[-1]
    words = page.extract_words(use_text_flow=True, keep_blank_chars=False)
    caption = next(w for w in words if w["text"] == "Per-account" and w["x0"] < 60)
    account = next(w for w in words if w["text"] == "ACCOUNT" and w["top"] > caption["bottom"])
    bar = [w for w in words if account["top"] - 10 < w["top"] < account["bottom"] + 10 and w is not account]
    phrases: list[dict] = []  # the words of a heading's line, joined
    for word in sorted(bar, key=lambda w: (round(w["top"]), w["x0"])):
        last = phrases[-1] if phrases else None
        if last and round(last["top"]) == round(word["top"]) and word["x0"] - last["x1"] < 6:
            last.update(text=f"{last['text']} {word['text']}", x1=word["x1"])
        else:
            phrases.append(dict(word))
    columns: dict[float, list[dict]] = {}  # amounts' headings are right-aligned: one right edge per column
    for phrase in phrases:
        columns.setdefault(round(phrase["x1"]), []).append(phrase)
    headings = {x1: " ".join(p["text"] for p in sorted(ps, key=lambda p: p["top"])) for x1, ps in columns.items()}
    body = [w for w in words if w["top"] > max(w["bottom"] for w in bar) + 2]
    rows: dict[float, list[dict]] = {}
    for word in body:
        rows.setdefault(round(word["top"]), []).append(word)
    table, note = {}, []
    for _top, row in sorted(rows.items()):
        amounts = [w for w in row if AMOUNT.fullmatch(w["text"])]
        name = " ".join(w["text"] for w in sorted(row, key=lambda w: w["x0"]) if not AMOUNT.fullmatch(w["text"]))
        if not amounts or "Total" in table:  # the note, under the total
            note.append(" ".join(w["text"] for w in sorted(row, key=lambda w: w["x0"])))
            continue
        table[name] = {}
        for word in amounts:
            x1 = min(headings, key=lambda x: abs(x - word["x1"]))
            assert abs(x1 - word["x1"]) < 1, (word["text"], headings[x1])
            text = word["text"].replace("$", "").replace(",", "").replace("\u2212", "-")
            table[name][headings[x1]] = Decimal(text)
    return table, " ".join(note)


@pytest.mark.django_db
def test_the_pdfs_per_account_table_is_the_statement_pages_and_adds_up_to_the_consolidated_balance():
    """The PDF prints the statement page's per-account subtotals, under the page's headings, with credits
    taken off as the page shows them; a combined column says what it combines. The old PDF counted the
    parent's payment of a branch's invoice as the parent's invoicing (\"Invoiced 4,697.50\" where its own
    invoices were 1,560.00) and as the branch's payment (\"Paid 920\" for a branch that paid nothing)."""
    from billing.selectors import customers_under, statement
    from billing.selectors.statements import statement_page
    from billing.services import refund_payment
    from portal.views.statement import _account_columns
    from tests.billing.statement_ledger import MARCH, _credit, _invoice, _pay

    parent = ContactPersonFactory(customer__display_name="Head Office").customer
    north, south = CustomerFactory(display_name="North Branch"), CustomerFactory(display_name="South Branch")
    for branch in (north, south):
        link_to_parent(customer=branch, parent=parent, allow_parent_access=True)
    mar = lambda day: dt.date(2026, 3, day)  # noqa: E731
    _invoice(north, dt.date(2026, 2, 20), "300.00")  # an opening balance
    own = _invoice(parent, mar(2), "1560.00")
    north_invoice = _invoice(north, mar(3), "920.00")
    south_invoice = _invoice(south, mar(4), "640.00")
    _pay(parent, mar(10), "2480.00", {own: "1560.00", north_invoice: "920.00"})  # the parent pays North's invoice
    _credit(south, mar(12), "40.00", reason="Rebate")
    south_payment = _pay(south, mar(15), "700.00", {south_invoice: "600.00"})
    refund_payment(payment=south_payment, amount=Decimal("100.00"), refunded_on=mar(20))
    customers = customers_under(customer_id=parent.pk)
    page = statement_page(customers=customers, **MARCH)
    page_accounts = {a.customer_name: a for a in page.accounts[0 : len(page.accounts)]}
    full = statement(customers=customers, **MARCH)

    table, note = _per_account_table(render_statement_pdf({"statement": full, "customer": parent}))

    combined = {"PAYMENTS AND CREDITS": {"paid": -1, "credited": -1, "refunded": 1}}
    expected_headings = {heading.upper(): {field: -1 if credit else 1}
                         for heading, field, credit in _account_columns(page.totals)}
    assert {"PAID", "CREDIT NOTES", "REFUNDED", "FROM OTHER ACCOUNTS", "TO OTHER ACCOUNTS"} <= set(expected_headings)
    for name, subtotals in [*page_accounts.items(), ("Total", page.totals)]:
        row = table[name]
        assert row.pop("OPENING") == subtotals.opening_balance, name
        assert row.pop("CLOSING") == subtotals.closing_balance, name
        for heading, amount in row.items():
            fields = expected_headings.get(heading) or combined[heading]
            assert amount == sum(sign * getattr(subtotals, field) for field, sign in fields.items()), (name, heading)
        shown = {field for heading in row for field in (expected_headings.get(heading) or combined[heading])}
        assert shown == {field for fields in expected_headings.values() for field in fields}, name  # every column
        assert subtotals.opening_balance + sum(row.values()) == subtotals.closing_balance, name  # each row adds up
    if "PAYMENTS AND CREDITS" in table["Total"]:
        assert "Payments and credits: Paid plus Credit notes less Refunded" in note
    assert set(table) == {"Head Office", "North Branch", "South Branch", "Total"}
    # the old bug: transfers counted as invoicing, and as a payment by the branch that was paid for
    assert table["Head Office"]["INVOICED"] == Decimal("1560.00")
    assert table["Head Office"]["TO OTHER ACCOUNTS"] == Decimal("920.00")
    assert table["North Branch"]["FROM OTHER ACCOUNTS"] == Decimal("-920.00")
    assert table["North Branch"].get("PAID", table["North Branch"].get("PAYMENTS AND CREDITS")) == Decimal("0.00")
    # the accounts add up to the consolidated statement; transfers between them cancel out
    assert sum(a.closing_balance for a in page_accounts.values()) == page.closing_balance == full.closing_balance
    assert page.totals.closing_balance == full.closing_balance  # the PDF's Total row's closing, read above
    assert page.totals.transferred_in == page.totals.transferred_out == full.transfers_between_accounts
