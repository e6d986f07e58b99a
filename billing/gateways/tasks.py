"""The gateway event tasks. billing/tasks.py re-exports them so Celery's autodiscovery registers them."""

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError

from .base import GatewayUnavailable

# An event is re-queued once it has waited this long unapplied: by then its own task has normally
# run (a webhook's task starts within a second), so a healthy queue gets no copies.
REQUEUE_AFTER = timedelta(seconds=30)
# Per beat run (every 30 s), oldest first: a backlog after an outage drains at 1,000 a minute
# without one run publishing an unbounded burst.
REQUEUE_BATCH = 500
# A re-queued copy nobody consumed within this long is dropped by the worker that finally gets it;
# the next beat run queues a fresh one. Bounds the copies per event while no worker consumes.
REQUEUE_EXPIRES_SECONDS = 5 * 60


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


@shared_task(name="billing.requeue_gateway_events_task", acks_late=True)
def requeue_gateway_events_task() -> int:
    """Beat, every 30 s: queue again the stored events no worker applied (a worker died, Redis lost them)."""
    from billing.services.online_payments import requeue_unapplied_gateway_events

    return len(
        requeue_unapplied_gateway_events(older_than=REQUEUE_AFTER, limit=REQUEUE_BATCH, expires=REQUEUE_EXPIRES_SECONDS)
    )
