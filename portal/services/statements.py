"""Statement PDFs too long for a web request: asked for, built by a task, emailed, expired.

The web process never renders a long statement and never forks: `request_statement_pdf` stores what was
asked and queues `portal.tasks.build_statement_pdf_task` after the commit; the task calls
`build_statement_pdf`, which renders in the worker and stores the file privately (portal/documents.py).
"""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateformat import format as date_format

from billing.models import Customer, Organisation
from billing.selectors import customers_under, statement, visible_customers

from ..models import StatementPdf
from ..pdf import render_statement_pdf

logger = logging.getLogger(__name__)


def statement_pdf_customers(*, statement_pdf: StatementPdf) -> QuerySet[Customer]:
    """Whose movements the statement covers, decided when it is built: for a contact, the customers it
    sees now (the portal's one visibility selector; nothing once its access is gone), narrowed to the
    account it chose; for staff, the customer and, if asked, the branches open to it."""
    if statement_pdf.for_staff:
        if statement_pdf.with_branches:
            return customers_under(customer_id=statement_pdf.customer_id)
        return Customer.objects.filter(pk=statement_pdf.customer_id)
    visible = visible_customers(user=statement_pdf.requested_by)
    return visible.filter(pk=statement_pdf.branch_id) if statement_pdf.branch_id else visible


@transaction.atomic
def request_statement_pdf(
    *,
    user,
    customer: Customer,
    start: date,
    end: date,
    line_count: int,
    branch: Customer | None = None,
    with_branches: bool = False,
    for_staff: bool = False,
    email: bool = False,
) -> StatementPdf:
    """Ask for a statement PDF to be built in the background; the task is queued once this commits.

    `email`: send it to the user's address when ready. Raises ValidationError when an email is asked for
    a login without an address.
    """
    if email and not user.email:
        raise ValidationError("Your login has no email address to send the statement to.", code="no_email")
    statement_pdf = StatementPdf(
        requested_by=user,
        for_staff=for_staff,
        customer=customer,
        branch=branch,
        with_branches=with_branches,
        start=start,
        end=end,
        email_to=user.email if email else "",
        line_count=line_count,
        expires_at=timezone.now() + timedelta(hours=settings.STATEMENT_PDF_KEEP_HOURS),
    )
    statement_pdf.full_clean()
    statement_pdf.save()
    from ..tasks import build_statement_pdf_task  # tasks call services: imported here, not at the top

    transaction.on_commit(lambda: build_statement_pdf_task.delay(statement_pdf.pk))
    return statement_pdf


def build_statement_pdf(*, statement_pdf_id: int) -> StatementPdf | None:
    """Build a queued statement PDF: read the statement, render it here (in the worker), store the file
    privately, mark it ready and email it if asked. Safe to run twice (a redelivered task): a PDF that is
    ready is left as it is; one that was being built when its worker died is built again.

    Failures of the statement itself (the contact lost access) are stored on the row as a reason the
    page shows; anything else is stored as "could not be built" and raised, for the worker's log.
    Returns the row, or None when it no longer exists (expired and deleted).
    """
    with transaction.atomic():
        statement_pdf = (
            StatementPdf.objects.select_for_update().select_related("customer", "requested_by")
            .filter(pk=statement_pdf_id).first()
        )
        if statement_pdf is None or statement_pdf.status == StatementPdf.Status.READY:
            return statement_pdf
        statement_pdf.status, statement_pdf.pages_done, statement_pdf.failure = StatementPdf.Status.BUILDING, 0, ""
        statement_pdf.save(update_fields=["status", "pages_done", "failure"])

    customers = statement_pdf_customers(statement_pdf=statement_pdf)
    if not customers.exists():
        return _failed(statement_pdf, "This statement's accounts are no longer open to you.")
    try:
        result = statement(customers=customers, start=statement_pdf.start, end=statement_pdf.end)

        def progress(done: int, total: int):
            StatementPdf.objects.filter(pk=statement_pdf.pk).update(pages_done=done, pages_total=total)

        pdf = render_statement_pdf({"statement": result, "customer": statement_pdf.customer}, progress=progress)
    except Exception:
        _failed(statement_pdf, "The statement could not be built. Please ask for it again.")
        raise
    return _finish(statement_pdf, pdf, line_count=len(result.lines))


def _failed(statement_pdf: StatementPdf, reason: str) -> StatementPdf:
    statement_pdf.status, statement_pdf.failure = StatementPdf.Status.FAILED, reason
    statement_pdf.finished_at = timezone.now()
    statement_pdf.save(update_fields=["status", "failure", "finished_at"])
    logger.warning("statement PDF %s failed: %s", statement_pdf.pk, reason)
    return statement_pdf


@transaction.atomic
def _finish(statement_pdf: StatementPdf, pdf: bytes, *, line_count: int) -> StatementPdf:
    statement_pdf = StatementPdf.objects.select_for_update().select_related("customer").get(pk=statement_pdf.pk)
    if statement_pdf.file:  # a second run finishing after the first: keep one file
        statement_pdf.file.delete(save=False)
    statement_pdf.file.save(statement_pdf.name, ContentFile(pdf), save=False)
    statement_pdf.status, statement_pdf.size, statement_pdf.line_count = StatementPdf.Status.READY, len(pdf), line_count
    statement_pdf.pages_done = statement_pdf.pages_total
    statement_pdf.finished_at = timezone.now()
    statement_pdf.expires_at = statement_pdf.finished_at + timedelta(hours=settings.STATEMENT_PDF_KEEP_HOURS)
    statement_pdf.save()
    if statement_pdf.email_to:
        transaction.on_commit(lambda: _send(statement_pdf, pdf))
    return statement_pdf


def _send(statement_pdf: StatementPdf, pdf: bytes):
    organisation = Organisation.current()
    period = f"{date_format(statement_pdf.start, 'j M Y')} – {date_format(statement_pdf.end, 'j M Y')}"
    message = EmailMessage(
        subject=f"Your statement {period}",
        body=(
            f"Hello,\n\nAttached is the statement of accounts of {statement_pdf.customer.display_name} "
            f"for {period}, as you asked.\n\n{organisation.name}"
        ),
        to=[statement_pdf.email_to],
    )
    message.attach(statement_pdf.name, pdf, "application/pdf")
    message.send()


@transaction.atomic
def expire_statement_pdfs(*, now=None) -> int:
    """Delete the statement PDFs past their time, files first. Returns how many. Safe to run any time."""
    now = now or timezone.now()
    expired = list(StatementPdf.objects.select_for_update(skip_locked=True).filter(expires_at__lte=now))
    for statement_pdf in expired:
        if statement_pdf.file:
            statement_pdf.file.delete(save=False)
    StatementPdf.objects.filter(pk__in=[s.pk for s in expired]).delete()
    return len(expired)
