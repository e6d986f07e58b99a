"""Celery entry points: thin, they call the service."""

from celery import shared_task

from .models import SyncRun
from .services import sync_crm
from .zoho import CrmUnavailable


@shared_task(name="crmsync.tasks.sync_crm_task", acks_late=True)
def sync_crm_task(trigger: str = SyncRun.Trigger.SCHEDULED) -> int | None:
    """Celery beat runs this every 2 hours; Instant Sync and Save and Sync queue it too."""
    run = sync_crm(trigger=trigger)
    return run.pk if run else None


@shared_task(
    name="crmsync.tasks.push_document_task",
    acks_late=True,
    autoretry_for=(CrmUnavailable,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def push_document_task(kind: str, document_id: int) -> str:
    """Upsert one invoice or sales order to the CRM; queued after the commit that changed it.

    Network problems retry with backoff; whatever still fails is caught up by the next scheduled
    sync, which records the reason in the history.
    """
    from .services.documents import push_document

    return push_document(kind, document_id)
