"""Billing's models carry no CRM column any more: the CRM integration keeps its links in its own table
(crmsync.CrmLink). crmsync's migration 0008 copies them there first (it declares `run_before` this one, so
billing's migrations name no integration). The account totals step is in 0017 (it runs the current code,
which reads none of the columns removed here)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0015_disputes_refund_status'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='contactperson',
            name='crm_contact_id',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='crm_account_id',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='crm_contact_id',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='crm_synced_at',
        ),
        migrations.RemoveField(
            model_name='customer',
            name='crm_unlinked_reason',
        ),
        migrations.RemoveField(
            model_name='invoice',
            name='crm_deal_id',
        ),
        migrations.RemoveField(
            model_name='invoice',
            name='crm_deal_name',
        ),
        migrations.RemoveField(
            model_name='salesorder',
            name='crm_deal_id',
        ),
        migrations.RemoveField(
            model_name='salesorder',
            name='crm_deal_name',
        ),
    ]
