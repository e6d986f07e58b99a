"""Compute the AccountBalance rows of a ledger that existed before 0009 (a fresh database has none to
compute). It runs the current code's `rebuild_account_totals`, so it comes after every migration whose
columns that code reads (0011's application customers); `manage.py rebuild_account_totals` does the same
at any time."""

from django.db import migrations


def compute_existing_accounts(apps, schema_editor):
    from billing.services.account_totals import rebuild_account_totals

    rebuild_account_totals()


class Migration(migrations.Migration):
    dependencies = [("billing", "0011_application_customers")]

    operations = [migrations.RunPython(compute_existing_accounts, migrations.RunPython.noop)]
