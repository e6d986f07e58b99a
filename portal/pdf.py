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


# --- Statements: long ones are rendered in chunks by several processes, then merged. ----------
# WeasyPrint's time and memory grow with the number of boxes, so a 10,000-line statement in
# one document takes ~1.5 GB. Chunks of whole pages are rendered by forked workers from HTML
# strings (no database in the children), merged with pypdf, and "Page X of Y" is stamped
# afterwards from a page-number-only document, so numbering runs across the whole statement.
STATEMENT_SINGLE_MAX_LINES = 300
STATEMENT_CHUNK_PAGES = 10
_PAGE_NUMBERS_HTML = """<!doctype html><html><head><style>
@page { size: A4; margin: 18mm 16mm 20mm 16mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt Helvetica, Arial, sans-serif;
                  color: #6b7280; } }
div { break-before: page; } div:first-child { break-before: auto; }
</style></head><body>%s</body></html>"""


def _weasy(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def _rows_per_page(html: str) -> list[int]:
    """How many statement rows (tr.r) WeasyPrint puts on each page of this HTML."""
    from weasyprint import HTML

    counts = []
    for page in HTML(string=html, base_url=str(settings.BASE_DIR)).render().pages:
        counts.append(sum(1 for box in page._page_box.descendants()
                          if getattr(box, "element_tag", None) == "tr" and box.element is not None
                          and box.element.get("class", "").split()[-1:] == ["r"]))
    return counts


def _chunk_bounds(lines: int, first_page: int, per_page: int, pages_per_chunk: int) -> list[tuple[int, int]]:
    """Line ranges that fill whole pages, so merged chunks leave no half-empty page mid-statement.

    The first page also holds the header and the opening-balance row.
    """
    bounds, start = [], 0
    size = max(1, first_page - 1) + per_page * (pages_per_chunk - 1)
    while start < lines:
        end = min(lines, start + size)
        bounds.append((start, end))
        start, size = end, per_page * pages_per_chunk
    # the closing "Balance due" row needs a slot on the last page
    return bounds


def render_statement_pdf(context: dict, *, processes: int = 2, pages_per_chunk: int = STATEMENT_CHUNK_PAGES) -> bytes:
    """The statement PDF; above a few hundred lines, chunks in `processes` forked workers."""
    import io
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from pypdf import PdfReader, PdfWriter

    if "organisation" not in context:
        context["organisation"] = Organisation.current()
    if "logo" not in context:
        context["logo"] = logo_data_uri(context["organisation"])
    lines = context["statement"].lines
    if len(lines) <= STATEMENT_SINGLE_MAX_LINES or processes < 2:
        return _weasy(render_to_string("pdf/statement.html", {**context, "last": True}))

    def html(part: list, *, first: bool, last: bool) -> str:
        return render_to_string("pdf/statement.html", {
            **context, "lines": part, "continuation": not first, "last": last, "stamp_pages_later": True})

    # Calibrate once per statement on a short sample: rows on the first page and on a full page.
    sample = _rows_per_page(html(lines[:160], first=True, last=False))
    first_page, per_page = sample[0], max(sample[1:-1] or sample[1:] or [sample[0]])
    bounds = _chunk_bounds(len(lines), first_page, per_page, pages_per_chunk)
    documents = [html(lines[a:b], first=i == 0, last=i == len(bounds) - 1) for i, (a, b) in enumerate(bounds)]
    with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = list(pool.map(_weasy, documents))

    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    total = len(writer.pages)
    numbers = PdfReader(io.BytesIO(_weasy(_PAGE_NUMBERS_HTML % ("<div></div>" * total))))
    for page, number in zip(writer.pages, numbers.pages, strict=True):
        page.merge_page(number)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
