"""Each account's statement movements by month and kind (`StatementMonth`), kept like AccountBalance for the
statement page. Last, the AccountBalance and StatementMonth rows are computed with the current code (moved
here from 0015: that code writes this migration's table); keep that step in the last migration."""

import django.db.models.deletion
from django.db import migrations, models


def create_month_index(apps, schema_editor):
    # The statement page of a thousand accounts reads a range of months of all of them: by month, with the
    # figures in the index (index-only). PostgreSQL only, in plain SQL as in 0008 (SQLite has no INCLUDE).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX statement_month_by_month ON billing_statementmonth (month, customer_id) "
            "INCLUDE (kind, amount, lines)"
        )


def drop_month_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX statement_month_by_month")


def compute_existing_accounts(apps, schema_editor):
    from billing.services.account_totals import rebuild_account_totals

    rebuild_account_totals()


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0016_remove_crm_columns'),
    ]

    operations = [
        migrations.CreateModel(
            name='StatementMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(help_text="The month's first day.", verbose_name='month')),
                ('kind', models.CharField(max_length=16, verbose_name='kind')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=18, verbose_name='amount')),
                ('lines', models.PositiveIntegerField(verbose_name='lines')),
                ('customer', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='billing.customer')),
            ],
            options={
                'verbose_name': 'statement month',
                'constraints': [models.UniqueConstraint(fields=('customer', 'month', 'kind'), name='statement_month_unique')],
            },
        ),
        migrations.RunPython(create_month_index, drop_month_index),
        migrations.RunPython(compute_existing_accounts, migrations.RunPython.noop),
    ]
