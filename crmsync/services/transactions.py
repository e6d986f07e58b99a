"""CRM from a transaction: import a CRM account/contact as a customer, link a potential (deal)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Customer, Organisation
from billing.models.ledger import Invoice, SalesOrder
from billing.services import PageRow, save_customer_page
from crmsync.clients import client_for
from crmsync.mapping import ACCOUNTS, CONTACTS, CUSTOM_PREFIX, crm_fields_to_read, map_customer, mapping_for
from crmsync.models import CrmConnection, CrmLink
from crmsync.selectors import document_field, linked_customer_ids
from crmsync.services.links import add_links, lock_links, mark_synced
from crmsync.signals import push_after_commit
from crmsync.zoho import CrmError


def import_crm_record(*, module: str, crm_id: str) -> Customer:
    """Fetch one CRM account (→ Business) or contact (→ Individual) and create its customer.

    Safe to repeat: a record already linked returns its customer, updated with the mapped
    fields. Raises ValidationError when the CRM cannot be read or the record cannot be used.
    """
    if module not in (ACCOUNTS, CONTACTS):
        raise ValidationError(_("Only Accounts and Contacts can be imported."), code="bad_module")
    connection = CrmConnection.current()
    if not (connection.has_credentials and connection.is_enabled):
        raise ValidationError(_("Connect and enable Zoho CRM first."), code="not_connected")
    pairs = mapping_for(connection.field_mapping or {}, module)
    try:
        with client_for(connection) as client:
            record = client.get_record(
                module, crm_id, fields=crm_fields_to_read(connection.field_mapping or {}, module)
            )
    except CrmError as exc:
        raise ValidationError(exc.reason, code="crm_unavailable") from None
    if record is None:
        raise ValidationError(_("That record no longer exists in Zoho CRM."), code="crm_record_missing")
    item = map_customer(record, pairs, module=module)
    if item.error:
        raise ValidationError(item.error, code="crm_record_invalid")
    targets = sorted({t for _c, t in pairs if not t.startswith(CUSTOM_PREFIX)})
    values = {t: item.values[t] for t in targets}
    if module == ACCOUNTS:
        values.setdefault("company_name", item.values["company_name"])
    now = timezone.now()
    with transaction.atomic():
        lock_links()  # a sync page creating the same customer waits, or is waited for
        linked = linked_customer_ids(module=module, crm_ids=[item.crm_id]).get(item.crm_id)
        if linked is None:
            row = PageRow(
                values={
                    **values,
                    "origin": Customer.Origin.CRM,
                    "customer_type": Customer.Type.BUSINESS if module == ACCOUNTS else Customer.Type.INDIVIDUAL,
                    "currency": Organisation.current().base_currency,
                    "custom_fields": item.custom,
                }
            )
        else:
            row = PageRow(pk=linked, values=values)
        result = save_customer_page(rows=[row])
        if result.problems:
            raise ValidationError(result.problems[0], code="crm_record_invalid")
        [pk] = result.pks
        if linked is None:
            add_links(field="customer", module=module, pairs=[(pk, item.crm_id)], now=now)
        else:
            mark_synced(field="customer", module=module, ids=[pk], now=now)
    return Customer.objects.get(pk=pk)


def _document(kind: str, pk: int):
    model = {"invoice": Invoice, "salesorder": SalesOrder}.get(kind)
    if model is None:
        raise ValidationError(_("Potentials link to invoices and sales orders only."), code="bad_document")
    return model.objects.select_for_update().select_related("customer").get(pk=pk)


@transaction.atomic
def link_deal(*, kind: str, document_id: int, deal_id: str) -> CrmLink:
    """Associate a CRM potential (deal) of the document's customer with an invoice or sales order,
    in place of the one linked before. Returns the link.

    The deal must belong to the customer's CRM account. Raises ValidationError otherwise.
    """
    from crmsync.selectors import crm_deals

    document = _document(kind, document_id)
    try:
        deals = crm_deals(connection=CrmConnection.current(), customer=document.customer)
    except CrmError as exc:
        raise ValidationError(exc.reason, code="crm_unavailable") from None
    deal = next((d for d in deals if d["id"] == deal_id), None)
    if deal is None:
        raise ValidationError(
            _("%(customer)s has no such potential in Zoho CRM."),
            code="deal_not_found",
            params={"customer": document.customer.display_name},
        )
    field = document_field(document)
    CrmLink.objects.active().filter(module=CrmLink.Module.DEALS, **{field: document}).delete()
    link = CrmLink.objects.create(
        module=CrmLink.Module.DEALS,
        crm_id=deal["id"],
        crm_name=deal["name"][:255],
        synced_at=timezone.now(),
        **{field: document},
    )
    push_after_commit(kind, [document.pk])  # the CRM record names its deal within seconds
    return link


@transaction.atomic
def dissociate_deal(*, kind: str, document_id: int) -> Invoice | SalesOrder:
    """Remove the potential linked to an invoice or sales order. Safe to repeat."""
    document = _document(kind, document_id)
    CrmLink.objects.active().filter(module=CrmLink.Module.DEALS, **{document_field(document): document}).delete()
    push_after_commit(kind, [document.pk])
    return document
