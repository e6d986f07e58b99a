"""Celery entry points of the portal: thin, they call the service."""

from celery import shared_task
from django.db import OperationalError


@shared_task(name="portal.tasks.build_statement_pdf_task", acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def build_statement_pdf_task(statement_pdf_id: int) -> str | None:
    """Build a statement PDF asked for in the portal or the admin (queued after the request's commit).
    Renders in this worker process; a redelivered message builds it again or finds it ready."""
    from .services.statements import build_statement_pdf

    statement_pdf = build_statement_pdf(statement_pdf_id=statement_pdf_id)
    return statement_pdf.status if statement_pdf else None


@shared_task(name="portal.tasks.expire_statement_pdfs_task", acks_late=True)
def expire_statement_pdfs_task() -> int:
    """Beat, hourly: delete the statement PDFs past their time. Returns how many."""
    from .services.statements import expire_statement_pdfs

    return expire_statement_pdfs()
