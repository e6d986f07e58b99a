"""Property tests: random sequences of ledger actions never break the ledger's invariants.

Each example builds a small hierarchy (a parent, an open branch, a closed branch, a stranger),
then runs a random sequence of invoices, payments, credit notes, allocations, credit
applications, retainers and refunds through the services. Refused actions (ValidationError)
must write nothing; after each example check_ledger must pass and the invariants below hold.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from billing.models import Allocation, CreditApplication, CreditNote, Invoice, Payment, RetainerApplication
from billing.selectors import customers_under
from billing.services import (
    LineInput,
    allocate_oldest_first,
    allocate_payment,
    apply_credit_note,
    apply_retainer,
    create_credit_note,
    create_invoice,
    record_payment,
    refund_payment,
    refund_retainer,
    send_invoice,
)
from tests.factories import CustomerFactory

cents = st.integers(min_value=-500, max_value=30_000).map(lambda c: Decimal(c).scaleb(-2))
who = st.integers(min_value=0, max_value=3)
pick = st.integers(min_value=0, max_value=50)

actions = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), who, cents, st.booleans()),
        st.tuples(st.just("pay"), who, cents, st.dictionaries(pick, cents, max_size=3)),
        st.tuples(st.just("pay_all"), pick),
        st.tuples(st.just("allocate"), pick, st.dictionaries(pick, cents, max_size=2)),
        st.tuples(st.just("credit"), who, cents),
        st.tuples(st.just("apply_credit"), pick, pick, cents),
        st.tuples(st.just("apply_retainer"), pick, pick, cents),
        st.tuples(st.just("refund"), pick, cents),
        st.tuples(st.just("refund_retainer"), pick, cents),
    ),
    min_size=1,
    max_size=14,
)


def _nth(queryset, n):
    rows = list(queryset.order_by("pk"))
    return rows[n % len(rows)] if rows else None


def _ids(queryset, mapping):
    rows = list(queryset.order_by("pk").values_list("pk", flat=True))
    return {rows[k % len(rows)]: v for k, v in mapping.items()} if rows else {}


class LedgerPropertyTests(TestCase):
    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=actions)
    def test_random_sequences_keep_every_balance_consistent(self, steps):
        parent = CustomerFactory()
        people = [
            parent,
            CustomerFactory(parent=parent),
            CustomerFactory(parent=parent, allow_parent_access=False),
            CustomerFactory(),
        ]
        for step in steps:
            # No savepoint of our own: a refused service must roll back its own partial writes.
            try:
                self._run(step, people)
            except ValidationError as exc:
                assert exc.code, "every refusal carries a code"

        call_command("check_ledger", stdout=_Null(), stderr=_Null())
        assert not Invoice.objects.filter(balance_due__lt=0).exists()
        for payment in Payment.objects.all():
            applied = sum((a.amount for a in payment.allocations.all()), Decimal("0"))
            assert applied <= payment.amount
        for model, payer in (
            (Allocation, "payment__customer_id"),
            (CreditApplication, "credit_note__customer_id"),
            (RetainerApplication, "retainer__customer_id"),
        ):
            for payer_id, receiver_id in model.objects.values_list(payer, "invoice__customer_id"):
                assert customers_under(customer_id=payer_id).filter(pk=receiver_id).exists()

    def _run(self, step, people):
        kind, *args = step
        if kind == "invoice":
            customer, amount, retainer = people[args[0]], args[1], args[2]
            invoice = create_invoice(
                customer=customer, is_retainer=retainer, lines=[LineInput(description="Work", rate=amount)]
            )
            send_invoice(invoice=invoice)
        elif kind == "pay":
            customer, amount, mapping = people[args[0]], args[1], args[2]
            record_payment(
                customer=customer,
                amount=amount,
                paid_on=timezone.localdate(),
                method="cash",
                allocations=_ids(Invoice.objects.all(), mapping),
            )
        elif kind == "pay_all":
            payment = _nth(Payment.objects.all(), args[0])
            if payment:
                allocate_oldest_first(payment=payment)
        elif kind == "allocate":
            payment = _nth(Payment.objects.all(), args[0])
            if payment:
                allocate_payment(payment=payment, allocations=_ids(Invoice.objects.all(), args[1]))
        elif kind == "credit":
            create_credit_note(customer=people[args[0]], lines=[LineInput(description="Goodwill", rate=args[1])])
        elif kind == "apply_credit":
            note, invoice = _nth(CreditNote.objects.all(), args[0]), _nth(Invoice.objects.all(), args[1])
            if note and invoice:
                apply_credit_note(credit_note=note, applications={invoice.pk: args[2]})
        elif kind == "apply_retainer":
            retainer, invoice = _nth(Invoice.objects.retainers(), args[0]), _nth(Invoice.objects.all(), args[1])
            if retainer and invoice:
                apply_retainer(retainer=retainer, applications={invoice.pk: args[2]})
        elif kind == "refund":
            payment = _nth(Payment.objects.all(), args[0])
            if payment:
                refund_payment(payment=payment, amount=args[1])
        elif kind == "refund_retainer":
            retainer = _nth(Invoice.objects.retainers(), args[0])
            if retainer:
                refund_retainer(retainer=retainer, amount=args[1])


class _Null:
    def write(self, text):
        pass

    def flush(self):
        pass
