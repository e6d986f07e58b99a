"""CSV exports: every row of a report (not one page), amounts as plain numbers a spreadsheet reads."""

import csv
from decimal import Decimal

from django.http import StreamingHttpResponse

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

