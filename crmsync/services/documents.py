"""Transactions in the CRM: invoices → Invoices, sales orders → Sales_Orders, upserted by our id.

Two paths write the same records. The fast one: saving an invoice or sales order queues
`push_document_task` after the commit (crmsync.signals), which upserts that one document. The
authoritative one: every scheduled run (`push_documents`) compares each document of a linked
account with what was last pushed (`DocumentPush.digest`) and upserts the changed ones, 100 per
call; bulk writes that send no signal, and pushes that failed, are caught up there. The upsert's
duplicate check field is our document id (`Billing_Document_Id`), so pushing twice updates the
same CRM record.
"""

from __future__ import annotations

import hashlib
import json
import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models.ledger import Invoice, SalesOrder
from crmsync.clients import client_for
from crmsync.models import CrmConnection, DocumentPush, SyncFailure, SyncRun
from crmsync.selectors import documents_for_crm
from crmsync.zoho import UPSERT_BATCH, ZohoClient

logger = logging.getLogger(__name__)

INVOICE, SALES_ORDER = "invoice", "salesorder"
MODELS = {INVOICE: Invoice, SALES_ORDER: SalesOrder}
CRM_MODULE = {INVOICE: "Invoices", SALES_ORDER: "Sales_Orders"}
ID_FIELD = "Billing_Document_Id"  # a custom field of both modules; the upsert's duplicate check
CHUNK = 1_000


def pushes_transactions(connection: CrmConnection) -> bool:
    return connection.has_credentials and connection.is_enabled and connection.push_transactions


def _documents(kind: str):
    """The documents of `kind` that belong in the CRM: not drafts, of a linked account (with the
    account's and the deal's CRM ids)."""
    return documents_for_crm(MODELS[kind])


def _money(value: Decimal) -> float:
    # Zoho's currency fields take JSON numbers; a 2-decimal amount below 10^13 survives exactly.
    return float(value.quantize(Decimal("0.01")))


def document_record(kind: str, document, *, today=None) -> dict[str, Any]:
    """The CRM record of an invoice or sales order (without the CRM's own id)."""
    record: dict[str, Any] = {
        ID_FIELD: f"{kind}-{document.pk}",
        "Subject": document.number,
        "Account_Name": {"id": document.account_crm_id},
        "Currency": document.currency,
        "Grand_Total": _money(document.total),
    }
    if document.deal_crm_id:
        record["Deal_Name"] = {"id": document.deal_crm_id}
    if kind == INVOICE:
        today = today or timezone.localdate()
        overdue = (
            document.status in (Invoice.Status.SENT, Invoice.Status.PARTIALLY_PAID)
            and document.balance_due > 0
            and document.due_on < today
        )
        record.update(
            Status="Overdue" if overdue else str(Invoice.Status(document.status).label),
            Balance_Due=_money(document.balance_due),
            Invoice_Date=document.issued_on.isoformat(),
            Due_Date=document.due_on.isoformat(),
        )
    else:
        record.update(Status=str(SalesOrder.Status(document.status).label))
        if document.expected_shipment_on:
            record["Due_Date"] = document.expected_shipment_on.isoformat()
    return record


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


def _reason(result: Any) -> str:
    result = result if isinstance(result, dict) else {}
    reason = f"{result.get('code', 'ERROR')}: {result.get('message', '')}".strip()
    api_name = (result.get("details") or {}).get("api_name")
    if api_name:
        reason += " " + _("(field %(field)s)") % {"field": api_name}
    return reason


def _save_pushed(kind: str, pushed: list[tuple[int, str, str]]) -> None:
    now = timezone.now()
    DocumentPush.objects.bulk_create(
        [
            DocumentPush(kind=kind, document_id=pk, crm_id=crm_id, digest=digest, pushed_at=now)
            for pk, crm_id, digest in pushed
        ],
        update_conflicts=True,
        unique_fields=["kind", "document_id"],
        update_fields=["crm_id", "digest", "pushed_at"],
    )


def push_document(kind: str, document_id: int) -> str:
    """Upsert one invoice or sales order to the CRM, if it belongs there and changed since its last push.

    Returns "pushed", "unchanged", "skipped" (integration off, draft, account not linked, gone)
    or "failed" (the CRM refused the record; the next scheduled run retries it and records why).
    Network and authentication problems raise `CrmError` (the task retries with backoff).
    """
    if kind not in MODELS:
        raise ValueError(f"unknown document kind {kind!r}")
    connection = CrmConnection.objects.filter(pk=1).first()
    if connection is None or not pushes_transactions(connection):
        return "skipped"
    document = _documents(kind).filter(pk=document_id).first()
    if document is None:
        return "skipped"
    record = document_record(kind, document)
    digest = _digest(record)
    if DocumentPush.objects.filter(kind=kind, document_id=document_id, digest=digest).exists():
        return "unchanged"
    with client_for(connection) as client:
        [result] = client.upsert(CRM_MODULE[kind], [record], duplicate_check_fields=[ID_FIELD])
    crm_id = str(((result if isinstance(result, dict) else {}).get("details") or {}).get("id") or "")
    if not (isinstance(result, dict) and result.get("status") == "success" and crm_id):
        logger.warning(
            "Zoho CRM refused %s %s (%s); the next scheduled sync retries it.", kind, document.number, _reason(result)
        )
        return "failed"
    with transaction.atomic():
        _save_pushed(kind, [(document.pk, crm_id, digest)])
    return "pushed"


def push_documents(*, run: SyncRun, client: ZohoClient) -> int:
    """The scheduled catch-up: every changed invoice and sales order of linked accounts, 100 per upsert.

    A document is sent when what it would write differs from its last successful push (so bulk
    writes without signals, the calendar making an invoice overdue and earlier failures are all
    caught up). Per-record refusals go into the run's history and are retried next run. Returns
    the number of documents written; `CrmError` on a whole call propagates (the run fails).
    """
    pushed = 0
    today = timezone.localdate()
    for kind in (INVOICE, SALES_ORDER):
        pending: list[tuple[Any, dict[str, Any], str]] = []
        last_pk = 0
        while True:
            chunk = list(_documents(kind).filter(pk__gt=last_pk).order_by("pk")[:CHUNK])
            if not chunk:
                break
            last_pk = chunk[-1].pk
            previous = dict(
                DocumentPush.objects.filter(kind=kind, document_id__in=[d.pk for d in chunk]).values_list(
                    "document_id", "digest"
                )
            )
            for document in chunk:
                record = document_record(kind, document, today=today)
                digest = _digest(record)
                if previous.get(document.pk) == digest:
                    continue
                pending.append((document, record, digest))
                if len(pending) == UPSERT_BATCH:
                    pushed += _push_batch(run=run, client=client, kind=kind, batch=pending)
                    pending = []
        if pending:
            pushed += _push_batch(run=run, client=client, kind=kind, batch=pending)
    return pushed


def _push_batch(*, run: SyncRun, client: ZohoClient, kind: str, batch: list[tuple[Any, dict[str, Any], str]]) -> int:
    module = CRM_MODULE[kind]
    results = client.upsert(module, [record for _d, record, _h in batch], duplicate_check_fields=[ID_FIELD])
    done, failures = [], []
    for (document, _record, digest), result in zip(batch, results, strict=True):
        crm_id = str(((result if isinstance(result, dict) else {}).get("details") or {}).get("id") or "")
        if isinstance(result, dict) and result.get("status") == "success" and crm_id:
            done.append((document.pk, crm_id, digest))
            continue
        failures.append(
            SyncFailure(
                run_id=run.pk,
                direction=SyncFailure.Direction.PUSH,
                module=module,
                customer_id=document.customer_id,
                record_name=document.number[:255],
                reason=_("Not written to Zoho CRM: %(reason)s") % {"reason": _reason(result)},
            )
        )
    with transaction.atomic():
        _save_pushed(kind, done)
        SyncFailure.objects.bulk_create(failures)
        changes = {}
        if done:
            changes["documents_pushed"] = F("documents_pushed") + len(done)
        if failures:
            changes["failed"] = F("failed") + len(failures)
        if changes:
            SyncRun.objects.filter(pk=run.pk).update(**changes)
    return len(done)
