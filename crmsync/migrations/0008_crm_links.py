"""The CRM links move from billing's columns into crmsync's own table (CrmLink), every one of them:
customers' account and contact ids (with their last sync), contact persons' contact ids, the deals of
invoices and sales orders (with their names), and the reason of customers unlinked after a CRM deletion.
Runs before billing's 0016, which removes those columns; reversible (the links go back into the columns).
"""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2_000


def _in_batches(apps, rows):
    CrmLink = apps.get_model("crmsync", "CrmLink")
    batch = []
    for row in rows:
        batch.append(CrmLink(**row))
        if len(batch) == BATCH:
            CrmLink.objects.bulk_create(batch)
            batch = []
    CrmLink.objects.bulk_create(batch)


def _customer_links(Customer):
    columns = ("pk", "customer_type", "crm_account_id", "crm_contact_id", "crm_synced_at", "crm_unlinked_reason",
               "updated_at")
    linked = (models.Q(crm_account_id__isnull=False) | models.Q(crm_contact_id__isnull=False)
              | ~models.Q(crm_unlinked_reason=""))
    for pk, kind, account_id, contact_id, synced_at, reason, updated_at in (
        Customer.objects.filter(linked).order_by("pk").values_list(*columns).iterator(chunk_size=BATCH)
    ):
        if account_id:
            yield dict(customer_id=pk, module="Accounts", crm_id=account_id, synced_at=synced_at)
        if contact_id:
            yield dict(customer_id=pk, module="Contacts", crm_id=contact_id, synced_at=synced_at)
        if reason:
            # The CRM id of an unlinked customer was not kept; the module follows the customer's type
            # (Accounts become Business customers, Contacts Individuals).
            yield dict(customer_id=pk, module="Accounts" if kind == "business" else "Contacts", crm_id="",
                       synced_at=synced_at, unlinked_at=updated_at, unlinked_reason=reason[:255])


def copy_links_from_billing(apps, schema_editor):
    Customer = apps.get_model("billing", "Customer")
    ContactPerson = apps.get_model("billing", "ContactPerson")
    _in_batches(apps, _customer_links(Customer))
    _in_batches(apps, (
        dict(contact_person_id=pk, module="Contacts", crm_id=crm_id)
        for pk, crm_id in ContactPerson.objects.filter(crm_contact_id__isnull=False).exclude(crm_contact_id="")
        .order_by("pk").values_list("pk", "crm_contact_id").iterator(chunk_size=BATCH)
    ))
    for model_name, column in (("Invoice", "invoice_id"), ("SalesOrder", "sales_order_id")):
        model = apps.get_model("billing", model_name)
        _in_batches(apps, (
            {column: pk, "module": "Deals", "crm_id": deal_id, "crm_name": name}
            for pk, deal_id, name in model.objects.exclude(crm_deal_id="").order_by("pk")
            .values_list("pk", "crm_deal_id", "crm_deal_name").iterator(chunk_size=BATCH)
        ))


def copy_links_to_billing(apps, schema_editor):
    CrmLink = apps.get_model("crmsync", "CrmLink")
    Customer = apps.get_model("billing", "Customer")
    ContactPerson = apps.get_model("billing", "ContactPerson")
    links = CrmLink.objects.order_by("pk")
    for link in links.filter(customer__isnull=False, unlinked_at__isnull=True).iterator(chunk_size=BATCH):
        column = "crm_account_id" if link.module == "Accounts" else "crm_contact_id"
        Customer.objects.filter(pk=link.customer_id).update(**{column: link.crm_id, "crm_synced_at": link.synced_at})
    for link in links.filter(customer__isnull=False, unlinked_at__isnull=False).iterator(chunk_size=BATCH):
        Customer.objects.filter(pk=link.customer_id, crm_unlinked_reason="").update(
            crm_unlinked_reason=link.unlinked_reason)
    for link in links.filter(contact_person__isnull=False, unlinked_at__isnull=True).iterator(chunk_size=BATCH):
        ContactPerson.objects.filter(pk=link.contact_person_id).update(crm_contact_id=link.crm_id)
    for model_name, column in (("Invoice", "invoice"), ("SalesOrder", "sales_order")):
        model = apps.get_model("billing", model_name)
        for link in links.filter(**{f"{column}__isnull": False, "unlinked_at__isnull": True}).iterator(
            chunk_size=BATCH
        ):
            model.objects.filter(pk=getattr(link, f"{column}_id")).update(
                crm_deal_id=link.crm_id, crm_deal_name=link.crm_name)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0015_disputes_refund_status'),
        ('crmsync', '0007_receivable_field_mapping'),
    ]
    # Billing's migration that drops the columns names no integration: this one puts itself first.
    run_before = [('billing', '0016_remove_crm_columns')]

    operations = [
        migrations.CreateModel(
            name='CrmLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('module', models.CharField(choices=[('Accounts', 'Accounts'), ('Contacts', 'Contacts'), ('Deals', 'Deals (potentials)')], max_length=20, verbose_name='CRM module')),
                ('crm_id', models.CharField(blank=True, max_length=40, verbose_name='CRM id')),
                ('crm_name', models.CharField(blank=True, max_length=255, verbose_name='CRM record name')),
                ('synced_at', models.DateTimeField(blank=True, null=True, verbose_name='last synced')),
                ('unlinked_at', models.DateTimeField(blank=True, null=True, verbose_name='unlinked')),
                ('unlinked_reason', models.CharField(blank=True, max_length=255, verbose_name='why it was unlinked')),
                ('contact_person', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='crm_links+', to='billing.contactperson', verbose_name='contact person')),
                ('customer', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='crm_links+', to='billing.customer', verbose_name='customer')),
                ('invoice', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='crm_links+', to='billing.invoice', verbose_name='invoice')),
                ('sales_order', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='crm_links+', to='billing.salesorder', verbose_name='sales order')),
            ],
            options={
                'verbose_name': 'CRM link',
                'verbose_name_plural': 'CRM links',
                'indexes': [models.Index(condition=models.Q(('customer__isnull', False)), fields=['customer'], name='crmsync_link_customer_idx'), models.Index(condition=models.Q(('contact_person__isnull', False)), fields=['contact_person'], name='crmsync_link_person_idx'), models.Index(condition=models.Q(('invoice__isnull', False)), fields=['invoice'], name='crmsync_link_invoice_idx'), models.Index(condition=models.Q(('sales_order__isnull', False)), fields=['sales_order'], name='crmsync_link_order_idx'), models.Index(condition=models.Q(('invoice__isnull', False), ('sales_order__isnull', False), _connector='OR'), fields=['module', 'crm_id'], name='crmsync_link_document_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('contact_person__isnull', True), ('customer__isnull', False), ('invoice__isnull', True), ('sales_order__isnull', True)), models.Q(('contact_person__isnull', False), ('customer__isnull', True), ('invoice__isnull', True), ('sales_order__isnull', True)), models.Q(('contact_person__isnull', True), ('customer__isnull', True), ('invoice__isnull', False), ('sales_order__isnull', True)), models.Q(('contact_person__isnull', True), ('customer__isnull', True), ('invoice__isnull', True), ('sales_order__isnull', False)), _connector='OR'), name='crmsync_link_one_object'), models.CheckConstraint(condition=models.Q(models.Q(('unlinked_at__isnull', True), _negated=True), models.Q(('crm_id', ''), _negated=True), _connector='OR'), name='crmsync_link_active_has_crm_id'), models.UniqueConstraint(condition=models.Q(('unlinked_at__isnull', True), ('customer__isnull', False)), fields=('module', 'crm_id'), name='crmsync_link_record_one_customer'), models.UniqueConstraint(condition=models.Q(('unlinked_at__isnull', True), ('contact_person__isnull', False)), fields=('module', 'crm_id'), name='crmsync_link_record_one_person'), models.UniqueConstraint(condition=models.Q(('unlinked_at__isnull', True), ('customer__isnull', False)), fields=('customer', 'module'), name='crmsync_link_customer_one_record'), models.UniqueConstraint(condition=models.Q(('unlinked_at__isnull', True), ('contact_person__isnull', False)), fields=('contact_person', 'module'), name='crmsync_link_person_one_record'), models.UniqueConstraint(condition=models.Q(('unlinked_at__isnull', True), ('invoice__isnull', False)), fields=('invoice', 'module'), name='crmsync_link_invoice_one_record'), models.UniqueConstraint(condition=models.Q(('unlinked_at__isnull', True), ('sales_order__isnull', False)), fields=('sales_order', 'module'), name='crmsync_link_order_one_record')],
            },
        ),
        migrations.RunPython(copy_links_from_billing, copy_links_to_billing),
    ]
