"""Exports: CSV (every row of a report, not one page, amounts as plain numbers a spreadsheet reads) and PDF
(the report in the documents' style)."""

import csv
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse

# A cell starting with one of these is a formula to a spreadsheet: a customer named "=HYPERLINK(…)" must
# stay text in the file staff open (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Echo:
    def write(self, value):
        return value


def csv_response(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    """A streamed CSV download; text cells are guarded against formulas, numbers pass as they are."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # so Excel reads UTF-8 names right
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([cell if isinstance(cell, (int, Decimal)) else safe_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response



# A PDF lays out every cell in Python (WeasyPrint, ~1 ms a cell): a report's PDF lists at most this many rows
# (the first ones in the order chosen) and says so; the CSV always has every row.
PDF_MAX_ROWS = 300


def report_pdf_response(*, filename: str, title: str, heading: str, subtitle: list[str],
                        columns: list[tuple[str, bool]], rows: list[list], totals: list | None,
                        notes: list[str], numeric: set[int]) -> HttpResponse:
    """A report as a PDF in the documents' style (the invoice's letterhead and table; pdf/report.html).

    `columns` are (heading, is numeric); `rows` and `totals` are lists of already formatted cells; the cells
    at the `numeric` indexes are right-aligned. Rows past PDF_MAX_ROWS are left out with a note."""
    from portal.pdf import pdf_response

    shown = rows[:PDF_MAX_ROWS]
    if len(rows) > PDF_MAX_ROWS:
        notes = [*notes, f"The first {PDF_MAX_ROWS} of {len(rows)} rows in the order chosen; the CSV has every row."]

    def cells(row):
        return [(cell, index in numeric) for index, cell in enumerate(row)]

    context = {"title": title, "heading": heading, "subtitle": subtitle, "columns": columns,
               "rows": [cells(row) for row in shown], "totals": cells(totals) if totals else None, "notes": notes}
    return pdf_response("pdf/report.html", context, filename=filename)
