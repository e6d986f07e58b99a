"""Celery entry points: thin, they call the service."""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from .models import SyncRun
from .services import sync_crm
from .zoho import CrmUnavailable

# The fast path's retries when Zoho CRM cannot be reached: the client has already retried for
# ~15 s; the task then waits up to 30 s, 1, 2, 4, 8 and 10 minutes (full jitter: documents that
# failed together do not all retry together) before leaving it to the scheduled sync.
PUSH_RETRIES = 6
PUSH_BACKOFF_SECONDS = 30
PUSH_BACKOFF_MAX_SECONDS = 600


@shared_task(name="crmsync.tasks.sync_crm_task", acks_late=True)
def sync_crm_task(trigger: str = SyncRun.Trigger.SCHEDULED) -> int | None:
    """Celery beat runs this every 2 hours; Instant Sync and Save and Sync queue it too."""
    run = sync_crm(trigger=trigger)
    return run.pk if run else None


def push_retry_delay(retries: int) -> int:
    """Seconds before the next try of a push that found Zoho CRM unreachable `retries` times."""
    return get_exponential_backoff_interval(
        factor=PUSH_BACKOFF_SECONDS, retries=retries, maximum=PUSH_BACKOFF_MAX_SECONDS, full_jitter=True
    )


@shared_task(bind=True, name="crmsync.tasks.push_document_task", acks_late=True, max_retries=PUSH_RETRIES)
def push_document_task(self, kind: str, document_id: int) -> str:
    """Upsert one invoice or sales order to the CRM; queued after the commit that changed it.

    Zoho unreachable: retried with exponential backoff; after the last try the failure goes into
    the sync history and the next scheduled sync catches the document up.
    """
    from .services.documents import push_document, record_push_failure

    try:
        return push_document(kind, document_id)
    except CrmUnavailable as exc:
        if self.request.retries >= self.max_retries:
            record_push_failure(kind=kind, document_id=document_id, reason=exc.reason)
            return "failed"
        raise self.retry(exc=exc, countdown=push_retry_delay(self.request.retries)) from None
