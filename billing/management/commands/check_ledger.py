"""manage.py check_ledger: recompute every ledger balance and report mismatches (exit 1 on any)."""

from django.core.management.base import BaseCommand, CommandError

from billing.selectors.ledger_check import ledger_problems


class Command(BaseCommand):
    help = (
        "Recompute invoice balances, payments' unallocated amounts, credit note balances and unused "
        "retainers from allocations, applications and refunds; check the ledger's invariants."
    )

    def handle(self, *args, **options):
        problems = ledger_problems()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} ledger problem(s) found.")
        self.stdout.write(self.style.SUCCESS("Ledger consistent."))
