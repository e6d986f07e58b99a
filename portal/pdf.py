"""One way to turn a template into a PDF response (WeasyPrint)."""

import base64
import mimetypes

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string

from billing.models import Organisation


def logo_data_uri(organisation: Organisation) -> str:
    """The organisation's logo inlined, so WeasyPrint never fetches a URL (works with any storage)."""
    if not organisation.logo:
        return ""
    try:
        with organisation.logo.open("rb") as fh:
            data = fh.read()
    except (FileNotFoundError, OSError):
        return ""
    mime = mimetypes.guess_type(organisation.logo.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def render_pdf_bytes(template: str, context: dict) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is asked for

    if "organisation" not in context:
        context["organisation"] = Organisation.current()
    if "logo" not in context:
        context["logo"] = logo_data_uri(context["organisation"])
    html = render_to_string(template, context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def pdf_response(template: str, context: dict, *, filename: str, inline: bool = False) -> HttpResponse:
    response = HttpResponse(render_pdf_bytes(template, context), content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


# --- Statements --------------------------------------------------------------------------------
# WeasyPrint's time and memory follow the number of boxes it lays out (a table cell is ~0.8 ms),
# and a 10,000-line statement in one document takes ~1.5 GB. So the statement is laid out here,
# not by WeasyPrint: every row is ONE preformatted text line (date, description and the three
# amounts in fixed monospace columns, long descriptions wrapped by us), and three rows share one
# block (shaded every other band), i.e. ~2 boxes per row where a six-cell table row has ~20.
# Because every row's height is known, pages are cut here too: each page carries its own column
# heading, its own "Page X of Y" (the total is known before anything is rendered), and a long
# statement is rendered as chunks of whole pages in short-lived forked workers and concatenated
# with pypdf — no calibration pass, no stamping pass, and no process ever holds more than one
# chunk's layout.

STATEMENT_FONT_PT = 7.2  # DejaVu Sans Mono: one character is 0.602 em wide
STATEMENT_WIDTH = 115  # characters per row: 0.602 em × 7.2 pt × 115 + 6 pt padding ≤ 510 pt (A4 less 15 mm margins)
ROW_PT = 10.5  # height of one printed line of a row
HEAD_PT = 15.0  # the column heading bar on every page
CAPTION_PT = 26.0  # "Per-account subtotals" caption
PAGE_PT = (297 - 14 - 18) / 25.4 * 72 - 6  # A4 less the top/bottom margins, less a little slack
FIRST_PAGE_HEADER_PT = 168.0  # letterhead, addressee and summary box on page 1 (a fixed-height block) ...
LOGO_PT = 44.0  # ... taller by the logo, and by a line for each address line beyond three
STATEMENT_SINGLE_MAX_PAGES = 6  # up to this many pages, one process; above, chunks in workers
STATEMENT_CHUNK_PAGES = 8

_DATE_W, _AMOUNT_W, _GAP = 11, 12, 2
_DESC_W = STATEMENT_WIDTH - _DATE_W - _GAP - 3 * (_GAP + _AMOUNT_W)


def _amount(value, currency: str, *, blank_zero: bool = False) -> str:
    from billing.money import minor_unit_exponent, quantize

    if value is None or (blank_zero and not value):
        return ""
    return f"{quantize(value, currency or 'USD'):,.{minor_unit_exponent(currency or 'USD')}f}"


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def _row(date_text: str | None, text: str, amounts: list[str], *, desc_width: int = _DESC_W) -> str:
    """One statement row as fixed-width text: date (None: no date column), wrapped description,
    right-aligned amounts. Every row is STATEMENT_WIDTH characters wide at most."""
    lead = "" if date_text is None else f"{date_text:<{_DATE_W}}" + " " * _GAP
    parts = _wrap(text, desc_width)
    money = "".join(" " * _GAP + a.rjust(_AMOUNT_W) for a in amounts)
    first = lead + f"{parts[0]:<{desc_width}}" + money
    rest = [" " * len(lead) + "  " + part for part in parts[1:]]
    return "\n".join([first.rstrip(), *rest])


def _first_page_header_pt(context: dict) -> float:
    organisation, customer = context["organisation"], context.get("customer")
    extra = max(0, len((organisation.address or "").splitlines()) - 2)
    extra += max(0, len((getattr(customer, "billing_address", "") or "").splitlines()) - 3)
    return FIRST_PAGE_HEADER_PT + (LOGO_PT if context.get("logo") else 0) + 11.0 * extra


def statement_pages(statement, *, first_page_header_pt: float = FIRST_PAGE_HEADER_PT) -> list[dict]:
    """The statement cut into printed pages: [{"number", "heading", "items": [{"css", "text"}]}].

    Rows keep their order; a page break never splits a row; a page that continues a section
    repeats that section's column heading.
    """
    from django.utils.dateformat import format as date_format

    cur = statement.currency
    heading = _row("Date", "Transaction", ["Amount", "Payments", "Balance"])
    name_w = _DATE_W + _GAP + _DESC_W - _GAP - _AMOUNT_W  # subtotals: no date, four amounts
    sub_heading = _row(None, "Account", ["Opening", "Invoiced", "Paid", "Closing"], desc_width=name_w)
    items = [("lines", "o", _row(date_format(statement.start, "d M Y"), "Opening balance",
                                 ["", "", _amount(statement.opening_balance, cur)]))]
    for line in statement.lines:
        text = f"{line.customer_name} · {line.description}" if statement.is_consolidated else line.description
        items.append(("lines", "", _row(date_format(line.date, "d M Y"), text, [
            _amount(line.debit, cur, blank_zero=True), _amount(line.credit, cur, blank_zero=True),
            _amount(line.balance, cur)])))
    items.append(("lines", "t", _row("", "Balance due", [
        _amount(statement.total_debits, cur), _amount(statement.total_credits, cur),
        _amount(statement.closing_balance, cur)])))
    if statement.is_consolidated:
        items.append(("subtotals", "cap", "Per-account subtotals"))
        for s in statement.sections:
            items.append(("subtotals", "", _row(None, s.customer_name, [
                _amount(s.opening_balance, cur), _amount(s.total_debits, cur), _amount(s.total_credits, cur),
                _amount(s.closing_balance, cur)], desc_width=name_w)))
        items.append(("subtotals", "t", _row(None, "Total", [
            _amount(statement.opening_balance, cur), _amount(statement.total_debits, cur),
            _amount(statement.total_credits, cur), _amount(statement.closing_balance, cur)],
            desc_width=name_w)))
    headings = {"lines": heading, "subtotals": sub_heading}

    pages: list[dict] = []
    page, room = None, 0.0
    for section, css, text in items:
        height = CAPTION_PT if css == "cap" else ROW_PT * (text.count("\n") + 1)
        needs_heading = css != "cap" and (page is None or page["section"] != section)
        if page is None or height + (HEAD_PT if needs_heading else 0) > room:
            room = PAGE_PT - (first_page_header_pt if page is None else 0)
            page = {"number": len(pages) + 1, "section": section, "items": []}
            pages.append(page)
            needs_heading = css != "cap"
            if css == "cap":  # a caption at the top of a page needs no gap above it
                height = ROW_PT * 1.5
        if needs_heading:
            page["items"].append({"css": "th", "text": headings[section]})
            page["section"] = section
            room -= HEAD_PT
        page["items"].append({"css": css, "text": text})
        room -= height
    for page in pages:
        page["of"] = len(pages)
        page["items"] = _bands(page["items"])
    return pages


def _bands(items: list[dict], size: int = 3) -> list[dict]:
    """Consecutive rows go into bands of `size` rows, one block each, shaded every other band ("greenbar"
    paper): a third of the blocks of one block per row (WeasyPrint's time follows boxes), and still a
    guide for the eye across the wide rows. Headings, opening and total rows stay blocks of their own."""
    out: list[dict] = []
    count = shade = 0
    for item in items:
        if item["css"] not in ("", "z"):
            out.append(item)
            count = 0
            continue
        if count % size == 0:
            out.append({"css": "z" if shade else "", "text": item["text"]})
            shade ^= 1
        else:
            out[-1]["text"] += "\n" + item["text"]
        count += 1
    return out


def _statement_html(context: dict, pages: list[dict]) -> str:
    return render_to_string("pdf/statement.html", {
        **context, "pages": pages, "font_pt": STATEMENT_FONT_PT, "first_pt": _first_page_header_pt(context)})


def _render_chunk(html: str) -> bytes:
    """Worker body: one chunk of whole pages to PDF bytes (no database, no shared state)."""
    return _weasy(html)


def _weasy(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def render_statement_pdf(
    context: dict, *, processes: int = 2, pages_per_chunk: int = STATEMENT_CHUNK_PAGES
) -> bytes:
    """The statement PDF. Up to a few pages in this process; above, chunks of whole pages rendered by
    `processes` forked workers (each worker renders one chunk and exits, so its memory never grows)
    and concatenated in order."""
    import io
    import multiprocessing

    from pypdf import PdfReader, PdfWriter

    if "organisation" not in context:
        context["organisation"] = Organisation.current()
    if "logo" not in context:
        context["logo"] = logo_data_uri(context["organisation"])
    pages = statement_pages(context["statement"], first_page_header_pt=_first_page_header_pt(context))
    if len(pages) <= STATEMENT_SINGLE_MAX_PAGES or processes < 2:
        return _weasy(_statement_html(context, pages))

    chunks = max(processes, -(-len(pages) // pages_per_chunk))
    size = -(-len(pages) // chunks)
    documents = (_statement_html(context, pages[i:i + size]) for i in range(0, len(pages), size))
    # Lay out a few rows here first: fonts, cffi types and the stylesheet machinery get loaded once
    # in this process, and every forked worker starts warm.
    _weasy(_statement_html(context, [{**pages[0], "items": pages[0]["items"][:3]}]))
    writer = PdfWriter()
    with multiprocessing.get_context("fork").Pool(processes, maxtasksperchild=1) as pool:
        for part in pool.imap(_render_chunk, documents):
            writer.append(PdfReader(io.BytesIO(part)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
