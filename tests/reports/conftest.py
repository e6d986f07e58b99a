"""Report tests build their ledgers through the billing services; each ends with `check_ledger`, as the
billing suite does, so a report is never compared with a ledger that is itself inconsistent."""

from tests.billing.conftest import ledger_checked  # noqa: F401  (autouse fixture)
