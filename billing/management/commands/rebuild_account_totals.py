from django.core.management.base import BaseCommand

from billing.services.account_totals import rebuild_account_totals


class Command(BaseCommand):
    help = (
        "Recompute every customer's kept account figures (AccountBalance) from the ledger's documents: "
        "after loading data without the ledger services, or to repair what check_ledger reports."
    )

    def handle(self, *args, **options):
        count = rebuild_account_totals()
        self.stdout.write(self.style.SUCCESS(f"Recomputed the account figures of {count} customers."))
