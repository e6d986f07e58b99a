"""Refund status (failed / canceled refunds count nowhere), card disputes, the method a payer asked to save
on success. Computing the AccountBalance rows (moved here from 0012) moved on to 0017, which adds the statement
months that code writes too; keep that step after every migration that adds a column or table the current code
reads or writes (move it to the new last migration then). A database that ran this one already recomputes
there, harmlessly."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0014_subscription_price_and_discount_default_to_effective'),
    ]

    operations = [
        migrations.AddField(
            model_name='checkoutattempt',
            name='method_to_save',
            field=models.CharField(blank=True, max_length=100, verbose_name='method to save on success'),
        ),
        migrations.AddField(
            model_name='payment',
            name='disputed',
            field=models.BooleanField(default=False, verbose_name='disputed'),
        ),
        migrations.AddField(
            model_name='refund',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('canceled', 'Canceled')], default='succeeded', max_length=10, verbose_name='status'),
        ),
        migrations.CreateModel(
            name='Dispute',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('gateway', models.CharField(max_length=20, verbose_name='gateway')),
                ('gateway_dispute_id', models.CharField(max_length=100, unique=True, verbose_name='gateway dispute id')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=18, verbose_name='disputed amount')),
                ('currency', models.CharField(choices=[('USD', 'USD — US dollar'), ('EUR', 'EUR — Euro'), ('GBP', 'GBP — Pound sterling'), ('INR', 'INR — Indian rupee'), ('CAD', 'CAD — Canadian dollar'), ('AUD', 'AUD — Australian dollar'), ('JPY', 'JPY — Japanese yen')], max_length=3, verbose_name='currency')),
                ('reason', models.CharField(blank=True, max_length=60, verbose_name='reason')),
                ('status', models.CharField(choices=[('warning_needs_response', 'Inquiry: needs response'), ('warning_under_review', 'Inquiry: under review'), ('warning_closed', 'Inquiry closed'), ('needs_response', 'Needs response'), ('under_review', 'Under review'), ('won', 'Won'), ('lost', 'Lost')], max_length=24, verbose_name='status')),
                ('evidence_due_by', models.DateTimeField(blank=True, null=True, verbose_name='evidence due by')),
                ('fee', models.DecimalField(decimal_places=2, default=0, help_text='Net fees the gateway charged for this dispute.', max_digits=18, verbose_name='dispute fee')),
                ('opened_on', models.DateField(verbose_name='opened on')),
                ('closed_on', models.DateField(blank=True, null=True, verbose_name='closed on')),
                ('outcome', models.CharField(blank=True, max_length=24, verbose_name='outcome')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('hold', models.OneToOneField(blank=True, help_text='The refund-like row that took the disputed money off the invoices.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='dispute', to='billing.refund')),
                ('payment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='disputes', to='billing.payment')),
            ],
            options={
                'ordering': ['-opened_on', '-pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='dispute_amount_positive')],
            },
        ),
        migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),
    ]
