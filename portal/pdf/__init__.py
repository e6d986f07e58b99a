"""One way to turn a template into a PDF (WeasyPrint): invoices, receipts, sales orders and statements."""

import base64
import io
import mimetypes
from collections.abc import Callable

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


def _with_letterhead(context: dict) -> dict:
    if "organisation" not in context:
        context["organisation"] = Organisation.current()
    if "logo" not in context:
        context["logo"] = logo_data_uri(context["organisation"])
    return context


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is asked for

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def render_pdf_bytes(template: str, context: dict) -> bytes:
    return html_to_pdf(render_to_string(template, _with_letterhead(context)))


def pdf_response(template: str, context: dict, *, filename: str, inline: bool = False) -> HttpResponse:
    response = HttpResponse(render_pdf_bytes(template, context), content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def render_statement_pdf(context: dict, *, progress: Callable[[int, int], None] | None = None) -> bytes:
    """The statement PDF, in this process and no other: `context` holds `statement` (a Statement from
    billing.selectors.statements) and `customer` (the addressee), optionally `organisation` and `logo`.

    Laid out by portal.pdf.statement; a long one is rendered in parts of whole pages one after the other
    (so memory stays that of one part) and joined with pypdf; `progress(pages done, pages)` is called
    after each part. A long statement belongs in a task (portal.tasks), never in a web request.
    """
    from .statement import statement_documents

    parts = []
    for html, done, total in statement_documents(_with_letterhead(context)):
        parts.append(html_to_pdf(html))
        if progress is not None:
            progress(done, total)
    if len(parts) == 1:
        return parts[0]
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
