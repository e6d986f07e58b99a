"""What a customer can do on any document page (invoice, sales order): comment on it, forward it."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError

from billing.models import Invoice, SalesOrder
from portal.forms import CommentForm, ForwardForm
from portal.services import forward_document, post_comment


def comment_from_form(request, *, document: Invoice | SalesOrder) -> tuple[CommentForm, bool]:
    """Post the comment in request.POST on `document`. Returns the form (with errors) and whether it posted."""
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            post_comment(document=document, user=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            form.add_error("body", exc)
        else:
            messages.success(request, "Comment posted. We'll get back to you here.")
            return form, True
    return form, False


def forward_from_form(
    request, *, document: Invoice | SalesOrder, label: str, render_pdf: Callable[[], bytes]
) -> tuple[ForwardForm, bool]:
    """Email `document`'s PDF to the address in request.POST (invited, not made, a contact person).

    The PDF is rendered only once the form is valid and the contact's hourly allowance has room.
    Returns the form (with errors) and whether it was sent.
    """
    form = ForwardForm(request.POST)
    if form.is_valid():
        try:
            forward_document(
                document=document,
                user=request.user,
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                render_pdf=render_pdf,
                filename=f"{document.number}.pdf",
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"{label} {document.number} sent to {form.cleaned_data['email']}. The email invites them "
                "to become a contact person of your account; they are added only if they accept.",
            )
            return form, True
    return form, False
