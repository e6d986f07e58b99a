"""Receivers that join billing's documents to the CRM integration (billing does not import crmsync).

- A saved invoice or sales order is pushed to the CRM after the commit (the fast path). Bulk writes
  send no signal; the scheduled sync catches them up (`crmsync.services.documents.push_documents`).
  The receiver itself runs no query; the callback after the commit reads the connection once and
  queues the task.
- An invoice made from a sales order linked to a CRM deal is linked to the same deal, in the
  transaction that creates it.
"""

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from billing.models.ledger import Invoice, RetainerInvoice, SalesOrder

logger = logging.getLogger(__name__)


def _copy_deal_of_sales_order(invoice: Invoice) -> None:
    from crmsync.models import CrmLink

    deal = CrmLink.objects.active().filter(module=CrmLink.Module.DEALS, sales_order_id=invoice.sales_order_id).first()
    if deal is not None:
        CrmLink.objects.create(
            invoice=invoice, module=deal.module, crm_id=deal.crm_id, crm_name=deal.crm_name, synced_at=deal.synced_at
        )


def _queue_push(kind: str, document_id: int) -> None:
    from crmsync.models import CrmConnection
    from crmsync.tasks import push_document_task

    if CrmConnection.objects.filter(pk=1, is_enabled=True, push_transactions=True).exists():
        push_document_task.delay(kind, document_id)


@receiver(post_save, sender=Invoice, dispatch_uid="crmsync_push_invoice")
@receiver(post_save, sender=RetainerInvoice, dispatch_uid="crmsync_push_retainer_invoice")
@receiver(post_save, sender=SalesOrder, dispatch_uid="crmsync_push_sales_order")
def document_saved(sender, instance, raw=False, **kwargs):
    if raw or instance.status == "draft":
        return
    kind = "salesorder" if isinstance(instance, SalesOrder) else "invoice"
    # robust: a broker or CRM problem never turns the user's committed action into an error.
    transaction.on_commit(lambda: _queue_push(kind, instance.pk), robust=True)


@receiver(post_save, sender=Invoice, dispatch_uid="crmsync_deal_of_invoiced_sales_order")
def invoice_created(sender, instance, created=False, raw=False, **kwargs):
    if created and not raw and instance.sales_order_id is not None:
        _copy_deal_of_sales_order(instance)
