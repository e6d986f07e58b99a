"""One catalogue of movements (`billing.selectors.statements.kinds.MOVEMENTS`) drives every statement engine:
each kind of movement gives the same lines, with the same words, in the whole statement (the PDF's, through
the ORM) and on the statement page (SQL), and the same sums in the kept monthly figures.

A new kind of movement is one catalogue entry plus a movement of that kind in `statement_ledger`, which
these tests then follow through every engine."""

from collections import Counter
from dataclasses import fields
from datetime import date

import pytest

from billing.models import Customer
from billing.selectors.accounts import kept_months
from billing.selectors.statements import AccountSubtotals, LineKind, statement, statement_page
from billing.selectors.statements.kinds import DOCUMENTS, MOVEMENTS, SIDES, TRANSFERS
from tests.billing.statement_ledger import MARCH, statement_ledger

pytestmark = pytest.mark.django_db


def test_each_entry_sits_at_its_own_number_and_every_line_kind_has_a_word_and_a_column():
    columns = {f.name for f in fields(AccountSubtotals)}

    assert [kind.src for kind in MOVEMENTS] == list(range(len(MOVEMENTS)))
    assert {side.line_kind for side in SIDES} == set(LineKind.ORDER) == set(LineKind.LABELS)
    assert all(LineKind.SUBTOTALS[kind] in columns for kind in LineKind.ORDER)
    assert len({kind.line_kind for kind in DOCUMENTS}) == len(DOCUMENTS)  # a line's kind names its document
    assert len({kind.what for kind in TRANSFERS}) == len(TRANSFERS)  # a transfer's first words name its kind


def _entry(line) -> tuple[int, str]:
    """The catalogue entry (and side) a line came from, read from the line as a customer reads it."""
    if line.kind in (LineKind.TRANSFER_IN, LineKind.TRANSFER_OUT):
        (kind,) = [k for k in TRANSFERS if line.description.startswith(f"{k.what} {line.number} ")]
    else:
        (kind,) = [k for k in DOCUMENTS if k.line_kind == line.kind]
    return kind.src, line.kind


def _movements_in_march(customer_id) -> Counter:
    """How many movements of each entry and side the catalogue finds on the account in March."""
    return Counter({
        (side.kind.src, side.line_kind): n
        for side in SIDES
        if (n := side.kind.rows().filter(**{f"{side.customer}_id": customer_id,
                                            f"{side.kind.on}__range": (MARCH["start"], MARCH["end"])}).count())
    })


def _line(line):
    return (line.date, line.kind, line.number, line.description, line.debit, line.credit, line.balance)


@pytest.fixture
def ledger():
    return statement_ledger()


def test_every_kind_of_movement_reads_the_same_in_the_whole_statement_the_page_and_the_kept_months(ledger):
    accounts = Customer.objects.filter(pk__in=[c.pk for c in ledger.values()] + list(
        Customer.objects.filter(parent=ledger["hq"]).values_list("pk", flat=True)))
    seen = Counter()
    for account in accounts:
        one = Customer.objects.filter(pk=account.pk)
        full = statement(customers=one, **MARCH)
        page = statement_page(customers=one, **MARCH)
        expected = _movements_in_march(account.pk)

        assert Counter(_entry(line) for line in full.lines) == expected
        assert [_line(line) for line in page.lines[0 : len(page.lines)]] == [_line(line) for line in full.lines]
        assert page.accounts[0:1] == full.accounts
        kept = {kind: figures for (cid, month, kind), figures in kept_months(customer_ids=[account.pk]).items()
                if month == date(2026, 3, 1)}
        for kind in LineKind.ORDER:
            amount = getattr(full.accounts[0], LineKind.SUBTOTALS[kind])
            lines = sum(n for (_src, line_kind), n in expected.items() if line_kind == kind)
            assert kept.get(kind, (0, 0)) == ((amount, lines) if lines else (0, 0)), kind
        seen += expected

    every_side = {(side.kind.src, side.line_kind) for side in SIDES}
    assert set(seen) == every_side, f"no movement in statement_ledger for {every_side - set(seen)}: add one"
