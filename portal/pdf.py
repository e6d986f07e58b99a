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

    organisation = context.setdefault("organisation", Organisation.current())
    context.setdefault("logo", logo_data_uri(organisation))
    html = render_to_string(template, context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def pdf_response(template: str, context: dict, *, filename: str, inline: bool = False) -> HttpResponse:
    response = HttpResponse(render_pdf_bytes(template, context), content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response
