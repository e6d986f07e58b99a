"""Receivables in the CRM: each linked account's figures written to Account fields, changed ones only.

The four figures of a linked customer (outstanding receivables, overdue amount, unused credits,
sales this calendar year) go to CRM Account fields: by default four custom currency fields billing
creates at connect and configure (`ensure_receivable_fields`), or existing fields staff map in the
set-up page (`CrmConnection.receivable_field_mapping`). 100 accounts per Update Records
call (`PUT /crm/v8/Accounts`). What was pushed is kept per customer (`ReceivablesPush`): an account
whose figures and CRM id are unchanged since the last push is not sent again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from billing.models import AccountBalance, Invoice
from billing.money import ZERO
from crmsync.mapping import ACCOUNTS
from crmsync.models import CrmConnection, CrmLink, ReceivablesPush, SyncFailure, SyncRun
from crmsync.services.custom_fields import CustomField, ensure_custom_fields
from crmsync.zoho import UPSERT_BATCH, CrmMalformedResponse, ZohoClient

# Our figure → the CRM Account field's API name; staff may map a figure to another field.
DEFAULT_RECEIVABLE_FIELDS = {
    "outstanding_receivables": "Outstanding_Receivables",
    "overdue_amount": "Overdue_Amount",
    "unused_credits": "Unused_Credits",
    "sales_this_year": "Sales_This_Year",
}
RECEIVABLES_THEN = _lazy("account receivables are pushed once it exists")
# Customers whose figures are computed per round of queries: a fixed number of queries per chunk.
CHUNK = 1_000


@dataclass(frozen=True)
class AccountReceivables:
    customer_id: int
    outstanding_receivables: Decimal
    overdue_amount: Decimal
    unused_credits: Decimal
    sales_this_year: Decimal


RECEIVABLE_LABELS = {
    "outstanding_receivables": _lazy("Outstanding receivables"),
    "overdue_amount": _lazy("Overdue amount"),
    "unused_credits": _lazy("Unused credits"),
    "sales_this_year": _lazy("Sales this year"),
}


def receivable_fields(connection: CrmConnection | None = None) -> dict[str, str]:
    """Our figure → the Account field it is written to: the staff's mapping over the defaults."""
    connection = connection or CrmConnection.current()
    mapped = connection.receivable_field_mapping or {}
    return {figure: mapped.get(figure) or default for figure, default in DEFAULT_RECEIVABLE_FIELDS.items()}


def receivable_custom_fields(connection: CrmConnection) -> list[CustomField]:
    return [CustomField(ACCOUNTS, api_name, "currency") for api_name in receivable_fields(connection).values()]


def account_receivables(*, customer_ids: Iterable[int], today=None) -> list[AccountReceivables]:
    """The four CRM figures of these customers: three queries whatever their number.

    Outstanding receivables and unused credits are the kept `AccountBalance` figures (open regular
    invoices; open credit notes + unallocated payments); overdue = balance due of open regular
    invoices past their due date; sales this year = totals of regular invoices issued this calendar
    year that are neither draft nor void.
    """
    ids = list(customer_ids)
    today = today or timezone.localdate()
    balances = {
        row["customer_id"]: row
        for row in AccountBalance.objects.filter(customer_id__in=ids).values(
            "customer_id", "outstanding_invoices", "available_credits"
        )
    }
    overdue = dict(
        Invoice.objects.regular()
        .overdue(today)
        .filter(customer_id__in=ids)
        .values("customer_id")
        .annotate(amount=Sum("balance_due"))
        .values_list("customer_id", "amount")
        .order_by()
    )
    sales = dict(
        Invoice.objects.regular()
        .filter(customer_id__in=ids, issued_on__year=today.year)
        .exclude(status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID))
        .values("customer_id")
        .annotate(amount=Sum("total"))
        .values_list("customer_id", "amount")
        .order_by()
    )
    result = []
    for pk in ids:
        balance = balances.get(pk) or {}
        result.append(
            AccountReceivables(
                customer_id=pk,
                outstanding_receivables=balance.get("outstanding_invoices") or ZERO,
                overdue_amount=overdue.get(pk) or ZERO,
                unused_credits=balance.get("available_credits") or ZERO,
                sales_this_year=sales.get(pk) or ZERO,
            )
        )
    return result


def _figures(row: AccountReceivables, fields: dict[str, str]) -> dict[str, str]:
    return {api_name: str(getattr(row, name).quantize(Decimal("0.01"))) for name, api_name in fields.items()}


def ensure_receivable_fields(*, run: SyncRun, client: ZohoClient) -> bool:
    """Create the receivables fields missing from the CRM's Accounts (currency fields). True when all exist.

    When they cannot be read or created (scope ZohoCRM.settings.fields.CREATE missing, refused
    label), a note in the run's history says which and how to fix it.
    """
    problems = ensure_custom_fields(
        client=client,
        fields=receivable_custom_fields(CrmConnection.current()),
        then=RECEIVABLES_THEN,
    )
    if not problems:
        return True
    with transaction.atomic():
        SyncFailure.objects.bulk_create(
            [
                SyncFailure(
                    run=run,
                    direction=SyncFailure.Direction.PUSH,
                    module=ACCOUNTS,
                    record_name=_("Account fields"),
                    reason=reason,
                )
                for _module, reason in problems
            ]
        )
        SyncRun.objects.filter(pk=run.pk).update(failed=F("failed") + len(problems))
    return False


def push_receivables(*, run: SyncRun, client: ZohoClient) -> int:
    """Write linked accounts' receivables to their CRM Account fields; only changed ones, 100 per call.

    Safe to repeat: an account is sent only when its figures (or its CRM id) differ from the last
    successful push. Each batch's per-record failures go into the run's history and are retried at
    the next run (their state is not saved). Returns the number of accounts written. CRM errors
    on the whole call (`CrmError`) propagate: the run fails with the reason, batches already
    written stay recorded.
    """
    fields = receivable_fields(CrmConnection.current())
    # Until a first push succeeded, make sure the fields exist (one field list read per run till then).
    if not ReceivablesPush.objects.exists() and not ensure_receivable_fields(run=run, client=client):
        return 0
    linked = (
        CrmLink.objects.active()
        .of_customers(ACCOUNTS)
        .order_by("customer_id")
        .values_list("customer_id", "crm_id", "customer__display_name")
    )
    pushed = 0
    pending: list[tuple[int, str, str, dict[str, str]]] = []

    def flush(batch):
        nonlocal pushed
        pushed += _push_batch(run=run, client=client, batch=batch)

    last_pk = 0
    while True:
        chunk = list(linked.filter(customer_id__gt=last_pk)[:CHUNK])
        if not chunk:
            break
        last_pk = chunk[-1][0]
        rows = {r.customer_id: r for r in account_receivables(customer_ids=[pk for pk, _i, _n in chunk])}
        previous = {
            p.customer_id: (p.crm_id, p.figures)
            for p in ReceivablesPush.objects.filter(customer_id__in=rows).only("customer_id", "crm_id", "figures")
        }
        for pk, crm_id, name in chunk:
            figures = _figures(rows[pk], fields)
            if previous.get(pk) == (crm_id, figures):
                continue
            pending.append((pk, crm_id, name, figures))
            if len(pending) == UPSERT_BATCH:
                flush(pending)
                pending = []
    if pending:
        flush(pending)
    return pushed


def _push_batch(*, run: SyncRun, client: ZohoClient, batch: list[tuple[int, str, str, dict[str, str]]]) -> int:
    # Zoho's currency fields take JSON numbers. A 2-decimal amount below 10^13 survives the float
    # exactly (its shortest repr is the same decimal); the exact strings stay in ReceivablesPush.
    rows = [{"id": crm_id, **{k: float(Decimal(v)) for k, v in figures.items()}} for _pk, crm_id, _n, figures in batch]
    body = client.request("PUT", ACCOUNTS, json={"data": rows})
    results = body.get("data") if isinstance(body, dict) else None
    if not isinstance(results, list) or len(results) != len(batch):
        raise CrmMalformedResponse("Zoho CRM answered an account update without one result per record.")
    now = timezone.now()
    done, failures = [], []
    for (pk, crm_id, name, figures), result in zip(batch, results, strict=True):
        if isinstance(result, dict) and result.get("status") == "success":
            done.append(ReceivablesPush(customer_id=pk, crm_id=crm_id, figures=figures, pushed_at=now))
            continue
        result = result if isinstance(result, dict) else {}
        reason = f"{result.get('code', 'ERROR')}: {result.get('message', '')}".strip()
        api_name = (result.get("details") or {}).get("api_name")
        if api_name:
            reason += " " + _("(field %(field)s)") % {"field": api_name}
        failures.append(
            SyncFailure(
                run_id=run.pk,
                direction=SyncFailure.Direction.PUSH,
                module=ACCOUNTS,
                crm_id=crm_id,
                customer_id=pk,
                record_name=name[:255],
                reason=_("Receivables not written: %(reason)s") % {"reason": reason},
            )
        )
    with transaction.atomic():
        ReceivablesPush.objects.bulk_create(
            done,
            update_conflicts=True,
            unique_fields=["customer"],
            update_fields=["crm_id", "figures", "pushed_at"],
        )
        SyncFailure.objects.bulk_create(failures)
        changes = {}
        if done:
            changes["receivables_pushed"] = F("receivables_pushed") + len(done)
        if failures:
            changes["failed"] = F("failed") + len(failures)
        if changes:
            SyncRun.objects.filter(pk=run.pk).update(**changes)
    return len(done)
