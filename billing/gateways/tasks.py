"""The gateway event task. billing/tasks.py re-exports it so Celery's autodiscovery registers it."""

from celery import shared_task
from django.db import OperationalError

from .base import GatewayUnavailable


@shared_task(
    name="billing.record_gateway_event_task",
    acks_late=True,
    autoretry_for=(OperationalError, GatewayUnavailable),  # the gateway is asked for a charge's refunds
    retry_backoff=True,
    max_retries=5,
)
def record_gateway_event_task(event_id: int) -> None:
    from billing.models import GatewayEvent
    from billing.services.online_payments import record_gateway_event  # services enqueue tasks: import here

    event = GatewayEvent.objects.filter(pk=event_id).first()
    if event is None:  # removed by a data fix since it was queued
        return
    record_gateway_event(event=event)
