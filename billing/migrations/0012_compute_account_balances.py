"""Computed the AccountBalance rows of a ledger that existed before 0009 with the current code's
`rebuild_account_totals`. That code reads columns added later (0015's refund status), so the computation
moved to the last migration (0015); a database that ran this one already recomputes there, harmlessly.
`manage.py rebuild_account_totals` does the same at any time."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("billing", "0011_application_customers")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
