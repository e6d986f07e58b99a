"""AccountBalance: each customer's balance-summary figures and statement balance, kept by the ledger
services (billing.services.account_totals). The table only: existing ledgers get their rows in 0012, once
every column the computation reads exists."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_statement_date_indexes")]

    operations = [
        migrations.CreateModel(
            name="AccountBalance",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("outstanding_invoices", models.DecimalField(decimal_places=2, default=0, max_digits=18,
                                                             verbose_name="outstanding invoices")),
                ("available_credits", models.DecimalField(decimal_places=2, default=0, max_digits=18,
                                                          verbose_name="available credits")),
                ("outstanding_retainers", models.DecimalField(decimal_places=2, default=0, max_digits=18,
                                                              verbose_name="outstanding retainer invoices")),
                ("available_retainer_payments", models.DecimalField(decimal_places=2, default=0, max_digits=18,
                                                                    verbose_name="available retainer payments")),
                ("statement_balance", models.DecimalField(decimal_places=2, default=0, max_digits=18,
                                                          verbose_name="statement balance")),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("customer", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                                  related_name="account_balance", to="billing.customer")),
            ],
            options={"verbose_name": "account balance"},
        ),
    ]
