import pytest

from tests.payments.conftest import head_office  # noqa: F401  (the same head office and two branches)


@pytest.fixture(autouse=True)
def _ledger_stays_consistent():
    """After every test here, each kept account row equals the figures recomputed from the documents."""
    yield
    from billing.selectors.ledger_check import ledger_problems

    assert ledger_problems() == []
