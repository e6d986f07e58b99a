"""Celery entry points: thin, they call the service."""

from celery import shared_task

from .models import SyncRun
from .services import sync_crm


@shared_task(name="crmsync.tasks.sync_crm_task", acks_late=True)
def sync_crm_task(trigger: str = SyncRun.Trigger.SCHEDULED) -> int | None:
    """Celery beat runs this every 2 hours; Instant Sync and Save and Sync queue it too."""
    run = sync_crm(trigger=trigger)
    return run.pk if run else None
