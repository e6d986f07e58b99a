"""A written invoice or sales order is pushed to the CRM after the commit (the fast path).

billing does not import crmsync: the link is these receivers. `save()` sends `post_save`; the
services' bulk writes (sending invoices, applying payments, credits and refunds) send billing's
`ledger_rows_written`. Each queues one `push_document_task` per document once the transaction
commits; the task finds out whether the document belongs in the CRM and changed. Writes that send
neither (raw SQL, data migrations) are caught up by the scheduled sync
(`crmsync.services.documents.push_documents`). The receivers run no query; the callback after the
commit reads the connection once.

An invoice made from a sales order linked to a CRM deal is linked to the same deal, in the
transaction that creates it (`invoice_from_sales_order`).
"""

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from billing.models.ledger import Invoice, RetainerInvoice, SalesOrder
from billing.signals import ledger_rows_written

logger = logging.getLogger(__name__)


def _copy_deal_of_sales_order(invoice: Invoice) -> None:
    from crmsync.models import CrmLink

    deal = CrmLink.objects.active().filter(module=CrmLink.Module.DEALS, sales_order_id=invoice.sales_order_id).first()
    if deal is not None:
        CrmLink.objects.create(
            invoice=invoice, module=deal.module, crm_id=deal.crm_id, crm_name=deal.crm_name, synced_at=deal.synced_at
        )


def _queue_pushes(kind: str, document_ids: list[int]) -> None:
    from crmsync.models import CrmConnection
    from crmsync.tasks import push_document_task

    # Paused: nothing is queued; the first scheduled run after Resume catches the documents up.
    if CrmConnection.objects.filter(pk=1, is_enabled=True, push_transactions=True, is_paused=False).exists():
        for document_id in document_ids:
            push_document_task.delay(kind, document_id)


def push_after_commit(kind: str, document_ids: list[int]) -> None:
    """Queue the push of these documents once the current transaction commits (none if it rolls back)."""
    # robust: a broker or CRM problem never turns the user's committed action into an error.
    transaction.on_commit(lambda: _queue_pushes(kind, document_ids), robust=True)


@receiver(post_save, sender=Invoice, dispatch_uid="crmsync_push_invoice")
@receiver(post_save, sender=RetainerInvoice, dispatch_uid="crmsync_push_retainer_invoice")
@receiver(post_save, sender=SalesOrder, dispatch_uid="crmsync_push_sales_order")
def document_saved(sender, instance, raw=False, **kwargs):
    if raw or instance.status == "draft":
        return
    push_after_commit("salesorder" if isinstance(instance, SalesOrder) else "invoice", [instance.pk])


@receiver(ledger_rows_written, sender=Invoice, dispatch_uid="crmsync_push_invoices_written")
@receiver(ledger_rows_written, sender=RetainerInvoice, dispatch_uid="crmsync_push_retainer_invoices_written")
def invoices_written(sender, pks, **kwargs):
    push_after_commit("invoice", list(pks))


@receiver(post_save, sender=Invoice, dispatch_uid="crmsync_deal_of_invoiced_sales_order")
def invoice_from_sales_order(sender, instance, created=False, raw=False, **kwargs):
    if created and not raw and instance.sales_order_id is not None:
        _copy_deal_of_sales_order(instance)
