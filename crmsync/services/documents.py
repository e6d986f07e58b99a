"""Transactions in the CRM: invoices → Invoices, sales orders → Sales_Orders, upserted by our id.

Two paths write the same records. The fast one: saving an invoice or sales order queues
`push_document_task` after the commit (crmsync.signals), which upserts that one document; what
Zoho refuses goes into the day's "instant pushes" row of the sync history. The authoritative one:
every scheduled run (`push_documents`) compares each document of a linked account with what was
last pushed (`DocumentPush.digest`) and upserts the changed ones, 100 per call; bulk writes that
send no signal, pushes that failed and pushes skipped while the sync was paused are caught up
there. The upsert's duplicate check field is our document id (`Billing_Document_Id`, a unique
custom field), so pushing twice updates the same CRM record.

What Zoho CRM v8 requires of these modules (pinned 2026-12 from):
- Upsert: POST /crm/v8/{module}/upsert, at most 100 records, `duplicate_check_fields` naming a
  unique field; one result per record (https://www.zoho.com/crm/developer/docs/api/v8/upsert-records.html).
- An Invoice needs `Subject` and its item rows `Invoiced_Items` (a Sales Order: `Ordered_Items`);
  each row is {"Product_Name": {"id": <Products record>}, "Quantity", "List_Price", "Discount",
  "Tax", "Description"}, and the REST API reads only the id of Product_Name
  (https://cdn.cdata.com/help/CZN/ado/pg_v4table-invoices.htm,
  https://cdn.cdata.com/help/CZN/ado/pg_v8table-ordereditems.htm). Zoho computes each row's totals
  and the record's Sub_Total and Grand_Total from the rows, so we send rows, not totals. Discount and
  Tax are the line's amounts: billing's taxes are rates per line, while Zoho's named taxes
  (Line_Tax) must exist in the CRM organisation's tax settings, which billing does not manage.
- Updating a record keeps its existing rows and adds the rows sent without an id; a row is removed
  by sending its id with "_delete": null (Update Subform Data,
  https://zoho.com/crm/developer/docs/api/v7/update-subforms.html). So rows are sent only when the
  document's lines changed since the last push, together with the removal of the rows the CRM holds.
- `Billing_Document_Id` and `Balance_Due` are custom fields a fresh org lacks; see
  crmsync.services.transaction_fields.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models.ledger import Invoice, SalesOrder
from crmsync.clients import client_for
from crmsync.models import CrmConnection, DocumentPush, SyncFailure, SyncRun
from crmsync.selectors import account_crm_id, deal_crm_id, of_linked_accounts
from crmsync.services.products import GENERIC_KEY, crm_products, product_key
from crmsync.services.transaction_fields import BALANCE_FIELD, ID_FIELD, ensure_transaction_fields
from crmsync.zoho import UPSERT_BATCH, CrmError, CrmMalformedResponse, CrmUnavailable, ZohoClient

logger = logging.getLogger(__name__)

INVOICE, SALES_ORDER = "invoice", "salesorder"
MODELS = {INVOICE: Invoice, SALES_ORDER: SalesOrder}
CRM_MODULE = {INVOICE: "Invoices", SALES_ORDER: "Sales_Orders"}
ITEMS_FIELD = {INVOICE: "Invoiced_Items", SALES_ORDER: "Ordered_Items"}
CHUNK = 1_000
# Zoho's text fields hold 255 characters unless made longer.
DESCRIPTION_LENGTH = 255


def pushes_transactions(connection: CrmConnection) -> bool:
    """Whether documents go to the CRM now: connected, enabled, set up, switched on and not paused."""
    return (
        connection.has_credentials
        and connection.is_enabled
        and connection.is_configured
        and connection.push_transactions
        and not connection.is_paused
    )


def _documents(kind: str):
    """The documents of `kind` that belong in the CRM: not drafts, of a linked account, with their lines."""
    documents = MODELS[kind].objects.exclude(status="draft").select_related("customer").prefetch_related("lines")
    return of_linked_accounts(documents)


def _money(value: Decimal) -> float:
    # Zoho's currency fields take JSON numbers; a 2-decimal amount below 10^13 survives exactly.
    return float(value.quantize(Decimal("0.01")))


def document_record(kind: str, document, *, today=None) -> dict[str, Any]:
    """The CRM record of an invoice or sales order, without its item rows and the CRM's own id."""
    record: dict[str, Any] = {
        ID_FIELD: f"{kind}-{document.pk}",
        "Subject": document.number,
        "Account_Name": {"id": account_crm_id(document)},
        "Currency": document.currency,
    }
    deal = deal_crm_id(document)
    if deal:
        record["Deal_Name"] = {"id": deal}
    if kind == INVOICE:
        today = today or timezone.localdate()
        overdue = (
            document.status in (Invoice.Status.SENT, Invoice.Status.PARTIALLY_PAID)
            and document.balance_due > 0
            and document.due_on < today
        )
        record.update(
            {
                "Status": "Overdue" if overdue else str(Invoice.Status(document.status).label),
                BALANCE_FIELD: _money(document.balance_due),
                "Invoice_Date": document.issued_on.isoformat(),
                "Due_Date": document.due_on.isoformat(),
            }
        )
    else:
        record["Status"] = str(SalesOrder.Status(document.status).label)
        if document.expected_shipment_on:
            record["Due_Date"] = document.expected_shipment_on.isoformat()
    return record


def document_rows(document) -> list[dict[str, Any]]:
    """The document's item rows as Zoho takes them, each naming its product by our key (`product`).

    A document without lines (entered as a total) is one row of its total on the generic product.
    """
    lines = list(document.lines.all())
    if not lines:
        return [
            {
                "product": GENERIC_KEY,
                "Quantity": 1.0,
                "List_Price": _money(document.total),
                "Discount": 0.0,
                "Tax": 0.0,
                "Description": _("Total of %(number)s") % {"number": document.number},
            }
        ]
    return [
        {
            "product": product_key(line.item_id),
            "Quantity": float(line.quantity),
            "List_Price": _money(line.rate),
            "Discount": _money(line.discount_amount),
            "Tax": _money(line.tax_amount),
            "Description": line.description[:DESCRIPTION_LENGTH],
        }
        for line in lines
    ]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _reason(result: Any) -> str:
    result = result if isinstance(result, dict) else {}
    reason = f"{result.get('code', 'ERROR')}: {result.get('message', '')}".strip()
    api_name = (result.get("details") or {}).get("api_name")
    if api_name:
        reason += " " + _("(field %(field)s)") % {"field": api_name}
    return reason


@dataclass
class _Pending:
    """A document whose CRM record differs from its last push."""

    document: Any
    record: dict[str, Any]
    rows: list[dict[str, Any]]
    digest: str
    lines_digest: str
    previous: DocumentPush | None

    @property
    def sends_rows(self) -> bool:
        return self.previous is None or self.previous.lines_digest != self.lines_digest


def _changed(kind: str, documents: list, *, today=None) -> list[_Pending]:
    """Those of `documents` whose record or rows differ from their last push (one query)."""
    previous = {
        p.document_id: p for p in DocumentPush.objects.filter(kind=kind, document_id__in=[d.pk for d in documents])
    }
    changed = []
    for document in documents:
        record, rows = document_record(kind, document, today=today), document_rows(document)
        digest = _digest({"record": record, "rows": rows})
        last = previous.get(document.pk)
        if last is not None and last.digest == digest:
            continue
        changed.append(_Pending(document, record, rows, digest, _digest(rows), last))
    return changed


# -- the fast path --------------------------------------------------------------------------------


def push_document(kind: str, document_id: int) -> str:
    """Upsert one invoice or sales order to the CRM, if it belongs there and changed since its last push.

    Returns "pushed", "unchanged", "skipped" (transactions off, sync paused, draft, account not
    linked, gone) or "failed" (the CRM refused it; the reason is in the day's instant-push row of
    the history and the next scheduled run retries it). Network problems raise `CrmUnavailable`
    (the task retries with backoff); other CRM errors are recorded as the refusal's reason.
    """
    if kind not in MODELS:
        raise ValueError(f"unknown document kind {kind!r}")
    connection = CrmConnection.objects.filter(pk=1).first()
    if connection is None or not pushes_transactions(connection):
        return "skipped"
    document = _documents(kind).filter(pk=document_id).first()
    if document is None:
        return "skipped"
    batch = _changed(kind, [document])
    if not batch:
        return "unchanged"
    run = instant_push_run()
    with client_for(connection) as client:
        try:
            written = _push_batch(run=run, client=client, kind=kind, batch=batch)
        except CrmUnavailable:
            raise
        except CrmError as exc:
            _record_failures(run, [_failure(run, kind, document, exc.reason)])
            written = 0
        finally:
            SyncRun.objects.filter(pk=run.pk).update(
                finished_at=timezone.now(), http_requests=F("http_requests") + client.request_count
            )
    return "pushed" if written else "failed"


def instant_push_run() -> SyncRun:
    """Today's history row for the instant pushes (created by the first push of the day)."""
    today = timezone.localdate()
    now = timezone.now()
    defaults = dict(
        trigger=SyncRun.Trigger.PUSH,
        status=SyncRun.Status.SUCCEEDED,
        started_at=now,
        finished_at=now,
        message=_(
            "Invoices and sales orders pushed as they changed; what Zoho CRM refused is listed with its reason "
            "and retried by the next scheduled sync."
        ),
    )
    try:
        run, _created = SyncRun.objects.get_or_create(push_day=today, defaults=defaults)
    except IntegrityError:  # another push of the same instant created it
        run = SyncRun.objects.get(push_day=today)
    return run


def record_push_failure(*, kind: str, document_id: int, reason: str) -> SyncFailure | None:
    """Put a document the fast path gave up on (e.g. Zoho unreachable after every retry) into the history.

    None when the document no longer belongs in the CRM. The next scheduled run retries it.
    """
    document = _documents(kind).filter(pk=document_id).first()
    if document is None:
        return None
    run = instant_push_run()
    failure = _failure(run, kind, document, reason)
    _record_failures(run, [failure])
    return failure


def _failure(run: SyncRun, kind: str, document, reason: str) -> SyncFailure:
    return SyncFailure(
        run_id=run.pk,
        direction=SyncFailure.Direction.PUSH,
        module=CRM_MODULE[kind],
        customer_id=document.customer_id,
        record_name=document.number[:255],
        reason=_("Not written to Zoho CRM: %(reason)s") % {"reason": reason},
    )


def _record_failures(run: SyncRun, failures: list[SyncFailure]) -> None:
    with transaction.atomic():
        SyncFailure.objects.bulk_create(failures)
        SyncRun.objects.filter(pk=run.pk).update(failed=F("failed") + len(failures))


# -- the scheduled catch-up -----------------------------------------------------------------------


def push_documents(*, run: SyncRun, client: ZohoClient) -> int:
    """The scheduled catch-up: every changed invoice and sales order of linked accounts, 100 per upsert.

    A document is sent when what it would write differs from its last successful push (so bulk
    writes without signals, the calendar making an invoice overdue, pushes skipped while paused
    and earlier failures are all caught up). Until a first document was pushed, the custom fields
    the push needs are checked (and created) first; when they cannot be, the run's history says
    which and how to fix it and no document is sent. Per-record refusals go into the run's history
    and are retried next run. Returns the number of documents written; `CrmError` on a whole call
    propagates (the run fails).
    """
    if not DocumentPush.objects.exists():
        problems = ensure_transaction_fields(client=client)
        if problems:
            _record_failures(
                run,
                [
                    SyncFailure(
                        run_id=run.pk,
                        direction=SyncFailure.Direction.PUSH,
                        module=module,
                        record_name=_("%(module)s fields") % {"module": module},
                        reason=problem,
                    )
                    for module, problem in problems
                ],
            )
            return 0
    pushed = 0
    today = timezone.localdate()
    for kind in (INVOICE, SALES_ORDER):
        pending: list[_Pending] = []
        last_pk = 0
        while True:
            chunk = list(_documents(kind).filter(pk__gt=last_pk).order_by("pk")[:CHUNK])
            if not chunk:
                break
            last_pk = chunk[-1].pk
            for changed in _changed(kind, chunk, today=today):
                pending.append(changed)
                if len(pending) == UPSERT_BATCH:
                    pushed += _push_batch(run=run, client=client, kind=kind, batch=pending)
                    pending = []
        if pending:
            pushed += _push_batch(run=run, client=client, kind=kind, batch=pending)
    return pushed


# -- one upsert of up to 100 documents (both paths) ------------------------------------------------


def _rows_in_crm(*, client: ZohoClient, kind: str, crm_ids: list[str]) -> dict[str, list[str]]:
    """The ids of the item rows the CRM holds for these records (one call for up to 100)."""
    records = client.get_records(CRM_MODULE[kind], crm_ids, fields=[ITEMS_FIELD[kind]])
    rows: dict[str, list[str]] = {}
    for record in records:
        items = record.get(ITEMS_FIELD[kind]) or []
        if not isinstance(items, list):
            raise CrmMalformedResponse("Zoho CRM sent a record's item rows in an unknown shape.")
        rows[str(record["id"])] = [str(row["id"]) for row in items if isinstance(row, dict) and row.get("id")]
    return rows


def _crm_row(row: dict[str, Any], product_id: str) -> dict[str, Any]:
    return {"Product_Name": {"id": product_id}, **{k: v for k, v in row.items() if k != "product"}}


def _push_batch(*, run: SyncRun, client: ZohoClient, kind: str, batch: list[_Pending]) -> int:
    """Upsert up to 100 changed documents: products first, then the records (one call each).

    Rows are sent only for documents whose lines changed; those already in the CRM get their old
    rows removed in the same upsert. A document whose product the CRM refused is not sent; it
    fails with that reason. Successes are saved, failures recorded, both in one transaction.
    """
    module, items_field = CRM_MODULE[kind], ITEMS_FIELD[kind]
    with_rows = [p for p in batch if p.sends_rows]
    products = crm_products(client=client, keys={row["product"] for p in with_rows for row in p.rows})
    replacing = [p.previous.crm_id for p in with_rows if p.previous is not None]
    old_rows = _rows_in_crm(client=client, kind=kind, crm_ids=replacing) if replacing else {}
    payload, sent, failures = [], [], []
    for pending in batch:
        data = dict(pending.record)
        if pending.sends_rows:
            refused = next((row["product"] for row in pending.rows if row["product"] not in products.ids), None)
            if refused is not None:
                reason = _("its product %(product)s was refused (%(reason)s)") % {
                    "product": refused,
                    "reason": products.refused.get(refused, ""),
                }
                failures.append(_failure(run, kind, pending.document, reason))
                continue
            removed = old_rows.get(pending.previous.crm_id, []) if pending.previous else []
            data[items_field] = [{"id": row_id, "_delete": None} for row_id in removed] + [
                _crm_row(row, products.ids[row["product"]]) for row in pending.rows
            ]
        payload.append(data)
        sent.append(pending)
    results = client.upsert(module, payload, duplicate_check_fields=[ID_FIELD]) if payload else []
    now = timezone.now()
    done = []
    for pending, result in zip(sent, results, strict=True):
        crm_id = str(((result if isinstance(result, dict) else {}).get("details") or {}).get("id") or "")
        if not (isinstance(result, dict) and result.get("status") == "success" and crm_id):
            failures.append(_failure(run, kind, pending.document, _reason(result)))
            continue
        digest, lines_digest = pending.digest, pending.lines_digest
        if pending.previous is None and result.get("action") == "update":
            # The record was already in the CRM (a push whose answer was lost): it may hold rows of
            # its own besides ours. Pushed again by the next run, which replaces them all.
            digest = lines_digest = ""
        done.append(
            DocumentPush(
                kind=kind,
                document_id=pending.document.pk,
                crm_id=crm_id,
                digest=digest,
                lines_digest=lines_digest,
                pushed_at=now,
            )
        )
    with transaction.atomic():
        DocumentPush.objects.bulk_create(
            done,
            update_conflicts=True,
            unique_fields=["kind", "document_id"],
            update_fields=["crm_id", "digest", "lines_digest", "pushed_at"],
        )
        SyncFailure.objects.bulk_create(failures)
        changes = {}
        if done:
            changes["documents_pushed"] = F("documents_pushed") + len(done)
        if failures:
            changes["failed"] = F("failed") + len(failures)
        if changes:
            SyncRun.objects.filter(pk=run.pk).update(**changes)
    for failure in failures:
        logger.warning("%s %s: %s", module, failure.record_name, failure.reason)
    return len(done)
