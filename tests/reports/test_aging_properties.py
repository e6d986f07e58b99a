"""Property test: for random dated ledgers and any day, the aging report's figures are exactly what a naive
recomputation from every dated row of every invoice gives (tests/reports/ledger.py `owed_naively`)."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from billing.models import CreditNote, Invoice, Payment
from billing.services import (
    LineInput,
    allocate_payment,
    apply_credit_note,
    create_credit_note,
    refund_payment,
    void_invoice,
)
from reports.selectors.aging import buckets_for, invoice_amounts_owed
from tests.factories import CustomerFactory

from .ledger import invoice, owed_naively, pay

START = date(2026, 1, 1)
day = st.integers(min_value=0, max_value=200)
cents = st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c).scaleb(-2))
who = st.integers(min_value=0, max_value=2)
pick = st.integers(min_value=0, max_value=40)

actions = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), who, day, cents, st.integers(min_value=0, max_value=60)),
        st.tuples(st.just("pay"), who, day, cents),
        st.tuples(st.just("allocate"), pick, pick, day, cents),
        st.tuples(st.just("credit"), who, day, cents, pick, day),
        st.tuples(st.just("refund"), pick, day, cents),
        st.tuples(st.just("void"), pick),
    ),
    min_size=1,
    max_size=16,
)


def _nth(queryset, n):
    rows = list(queryset.order_by("pk"))
    return rows[n % len(rows)] if rows else None


class _Null:
    def write(self, text):
        pass

    def flush(self):
        pass


class AgingAsOfPropertyTests(TestCase):
    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=actions, days=st.lists(day, min_size=1, max_size=4),
           edges=st.sampled_from([(15, 30, 45), (30, 60, 90), (1,), (7, 14)]))
    def test_aging_on_any_day_equals_a_naive_recomputation(self, steps, days, edges):
        parent = CustomerFactory()
        people = [parent, CustomerFactory(parent=parent), CustomerFactory(parent=parent, allow_parent_access=False)]
        for step in steps:
            try:
                self._run(step, people)
            except ValidationError:
                pass  # a refused action writes nothing; the ledger goes on
        call_command("check_ledger", stdout=_Null(), stderr=_Null())

        for offset in days:
            as_of = START + timedelta(days=offset)
            report = {pk: f.amounts for pk, f in invoice_amounts_owed(as_of=as_of, currency="USD", edges=edges).items()}
            assert report == _naive(as_of, edges), as_of

    def _run(self, step, people):
        kind, *args = step
        if kind == "invoice":
            customer, offset, amount, terms = people[args[0]], args[1], args[2], args[3]
            invoice(customer, START + timedelta(days=offset), str(amount), due_days=terms)
        elif kind == "pay":
            pay(people[args[0]], START + timedelta(days=args[1]), str(args[2]))
        elif kind == "allocate":
            payment, target = _nth(Payment.objects.all(), args[0]), _nth(Invoice.objects.all(), args[1])
            if payment and target:
                applied_on = max(target.issued_on, payment.paid_on) + timedelta(days=args[2] % 40)
                allocate_payment(payment=payment, allocations={target.pk: min(args[3], payment.unallocated,
                                                                                 target.balance_due)},
                                 applied_on=applied_on)
        elif kind == "credit":
            customer, offset, amount, target_n, later = people[args[0]], args[1], args[2], args[3], args[4]
            note = create_credit_note(customer=customer, issued_on=START + timedelta(days=offset),
                                      lines=[LineInput(description="Goodwill", rate=amount)])
            target = _nth(Invoice.objects.filter(customer=customer), target_n)
            if target:
                apply_credit_note(credit_note=note, applications={target.pk: min(amount, target.balance_due)},
                                  applied_on=max(target.issued_on, note.issued_on) + timedelta(days=later % 30))
        elif kind == "refund":
            payment = _nth(Payment.objects.all(), args[0])
            if payment:
                refund_payment(payment=payment, amount=min(args[2], payment.amount),
                               refunded_on=payment.paid_on + timedelta(days=args[1] % 60))
        elif kind == "void":
            target = _nth(Invoice.objects.filter(balance_due__gt=0), args[0])
            if target:
                void_invoice(invoice=target)
        assert CreditNote.objects.filter(balance__lt=0).count() == 0


def _naive(as_of, edges):
    buckets = buckets_for(edges)
    result = {}
    for customer_id, rows in owed_naively(as_of=as_of).items():
        amounts = [Decimal("0.00")] * len(buckets)
        for due_on, amount in rows:
            days = (as_of - due_on).days
            index = next(i for i, b in enumerate(buckets) if b.high is None or days <= b.high)
            amounts[index] += amount
        result[customer_id] = amounts
    return result
