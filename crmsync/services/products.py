"""CRM Products for line items: every item row of a Zoho Invoice or Sales Order points at a Products record.

Each billing item becomes one CRM product, upserted by our own id in the custom field
`Billing_Item_Id` ("item-12"); lines typed without an item share one generic product
("free-text"). The CRM ids are kept in `ProductPush`: a product is upserted only when a document
about to be pushed uses it and it is new or what it would write changed (name, code, price,
description, active), 100 per call, so a batch of documents costs at most one products call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Item
from crmsync.models import ProductPush
from crmsync.zoho import UPSERT_BATCH, ZohoClient

PRODUCTS = "Products"
PRODUCT_ID_FIELD = "Billing_Item_Id"  # a custom field of Products (unique): the upsert's duplicate check
GENERIC_KEY = "free-text"
# Zoho's Product_Name holds 120 characters (Products field limits); our item names hold 200.
NAME_LENGTH = 120


def product_key(item_id: int | None) -> str:
    """Our id of the CRM product a line points at: its item's, or the generic product's."""
    return f"item-{item_id}" if item_id else GENERIC_KEY


def product_record(item: Item | None) -> dict[str, Any]:
    """The CRM Products record of an item (or of the generic product for free-text lines)."""
    if item is None:
        return {
            PRODUCT_ID_FIELD: GENERIC_KEY,
            "Product_Name": str(_("Other (line typed in billing)")),
            "Product_Active": True,
            "Description": str(_("Used for invoice and sales order lines that name no billing item.")),
        }
    return {
        PRODUCT_ID_FIELD: product_key(item.pk),
        "Product_Name": item.name[:NAME_LENGTH],
        "Product_Code": item.sku or None,
        "Product_Active": item.is_active,
        "Unit_Price": float(item.rate.quantize(Decimal("0.01"))),
        "Description": item.description or None,
    }


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class CrmProducts:
    """The CRM product id of each key asked for, or why it has none."""

    ids: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def crm_products(*, client: ZohoClient, keys: Iterable[str]) -> CrmProducts:
    """The CRM product ids for these product keys, upserting the new and changed ones (100 per call).

    Two queries, then one upsert and one write per 100 products to send, whatever the number of lines. A product
    the CRM refuses is in `refused` with Zoho's reason (the documents using it are not sent);
    `CrmError` on a whole call propagates. Safe to repeat: the upsert finds products by our id.
    """
    keys = set(keys)
    answer = CrmProducts()
    if not keys:
        return answer
    item_ids = [int(key.removeprefix("item-")) for key in keys if key != GENERIC_KEY]
    items = {product_key(item.pk): item for item in Item.objects.filter(pk__in=item_ids)}
    known = {p.key: p for p in ProductPush.objects.filter(key__in=keys)}
    pending: list[tuple[str, dict[str, Any], str]] = []
    for key in sorted(keys):
        if key != GENERIC_KEY and key not in items:
            answer.refused[key] = _("its billing item no longer exists")
            continue
        record = product_record(items.get(key))
        digest = _digest(record)
        cached = known.get(key)
        if cached and cached.digest == digest:
            answer.ids[key] = cached.crm_id
        else:
            pending.append((key, record, digest))
    for at in range(0, len(pending), UPSERT_BATCH):
        batch = pending[at : at + UPSERT_BATCH]
        results = client.upsert(
            PRODUCTS, [record for _k, record, _d in batch], duplicate_check_fields=[PRODUCT_ID_FIELD]
        )
        now = timezone.now()
        done = []
        for (key, _record, digest), result in zip(batch, results, strict=True):
            result = result if isinstance(result, dict) else {}
            crm_id = str((result.get("details") or {}).get("id") or "")
            if result.get("status") == "success" and crm_id:
                answer.ids[key] = crm_id
                done.append(ProductPush(key=key, crm_id=crm_id, digest=digest, pushed_at=now))
                continue
            reason = f"{result.get('code', 'ERROR')}: {result.get('message', '')}".strip()
            api_name = (result.get("details") or {}).get("api_name")
            if api_name:
                reason += " " + _("(field %(field)s)") % {"field": api_name}
            answer.refused[key] = reason
        with transaction.atomic():
            ProductPush.objects.bulk_create(
                done,
                update_conflicts=True,
                unique_fields=["key"],
                update_fields=["crm_id", "digest", "pushed_at"],
            )
    return answer
