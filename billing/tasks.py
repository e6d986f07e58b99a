"""Scheduled ledger work. Thin: look up, call a service; repeat-safety lives in the service."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

# Defined beside the gateways; imported here so a worker's autodiscovery (app/tasks.py) registers them.
from billing.gateways.tasks import record_gateway_event_task, requeue_gateway_events_task  # noqa: F401


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def generate_due_subscription_invoices_task() -> int:
    """Invoice every subscription period that has started (beat: hourly). Returns how many were created."""
    from billing.services.subscriptions import generate_due_subscription_invoices

    return len(generate_due_subscription_invoices(today=timezone.localdate()))
