"""A small ledger told as a story, for the report tests: Northwind's head office with three city
branches (one private), in two groups, with partial payments, a credit note, a refund and a void."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billing.models import Allocation, AllocationReversal, CreditApplication, Invoice, RetainerApplication
from billing.services import (
    LineInput,
    allocate_payment,
    apply_credit_note,
    create_credit_note,
    create_invoice,
    record_payment,
    refund_payment,
    send_invoice,
    void_invoice,
)
from tests.factories import CustomerFactory, CustomerGroupFactory


def invoice(customer, on: date, amount: str, *, due_days: int = 30):
    created = create_invoice(customer=customer, issued_on=on, due_on=on + timedelta(days=due_days),
                             lines=[LineInput(description="Support", rate=Decimal(amount))])
    return send_invoice(invoice=created)


def pay(customer, on: date, amount: str, allocations=None):
    return record_payment(customer=customer, amount=Decimal(amount), paid_on=on, method="cheque",
                          allocations={i.pk: Decimal(a) for i, a in (allocations or {}).items()})


@dataclass
class Story:
    hq: object
    boston: object
    austin: object
    denver: object  # private: not open to the head office in the portal
    solo: object  # a customer with no parent, in no group


def northwind() -> Story:
    enterprise = CustomerGroupFactory(name="Enterprise")
    resellers = CustomerGroupFactory(name="Resellers")
    hq = CustomerFactory(display_name="Northwind HQ", group=enterprise)
    boston = CustomerFactory(display_name="Northwind Boston", parent=hq, group=enterprise)
    austin = CustomerFactory(display_name="Northwind Austin", parent=hq, group=resellers)
    denver = CustomerFactory(display_name="Northwind Denver", parent=hq, allow_parent_access=False, group=resellers)
    solo = CustomerFactory(display_name="Solo Traders")
    jan, feb, mar = date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)

    hq_jan = invoice(hq, jan, "1000.00")  # due 9 Feb
    boston_jan = invoice(boston, jan, "400.00")
    boston_feb = invoice(boston, feb, "250.00")  # due 12 Mar
    austin_feb = invoice(austin, feb, "300.00", due_days=15)
    denver_feb = invoice(denver, feb, "800.00")
    solo_mar = invoice(solo, mar, "90.00")
    invoice(solo, jan, "60.00")

    pay(hq, date(2026, 2, 20), "600.00", {hq_jan: "600.00"})  # partly paid in February
    pay(hq, date(2026, 3, 5), "400.00", {boston_jan: "400.00"})  # the parent pays a branch's invoice
    austin_pay = pay(austin, date(2026, 3, 1), "300.00", {austin_feb: "300.00"})
    refund_payment(payment=austin_pay, amount=Decimal("100.00"), refunded_on=date(2026, 3, 20))  # reopens 100
    credit = create_credit_note(customer=denver, issued_on=date(2026, 3, 2),
                                lines=[LineInput(description="Goodwill", rate=Decimal("50.00"))])
    apply_credit_note(credit_note=credit, applications={denver_feb.pk: Decimal("50.00")})
    late = pay(boston, date(2026, 2, 28), "250.00")
    allocate_payment(payment=late, allocations={boston_feb.pk: Decimal("250.00")}, applied_on=date(2026, 4, 2))
    void_invoice(invoice=solo_mar)
    return Story(hq=hq, boston=boston, austin=austin, denver=denver, solo=solo)


def owed_naively(*, as_of: date, currency: str = "USD") -> dict[int, list[tuple[date, Decimal]]]:
    """{customer id: [(due date, amount owed)]} at the end of `as_of`, recomputed from every dated row of
    every invoice, one by one: the oracle the report is checked against."""
    from django.utils import timezone

    owed: dict[int, list[tuple[date, Decimal]]] = {}
    for inv in Invoice.objects.filter(is_retainer=False, currency=currency, issued_on__lte=as_of).exclude(
            status=Invoice.Status.DRAFT):
        if inv.status == Invoice.Status.VOID:
            if timezone.localdate(inv.voided_at) <= as_of:
                continue
            amount = inv.total
        else:
            applied = sum((a.amount for a in Allocation.objects.filter(invoice=inv, applied_on__lte=as_of)),
                          Decimal(0))
            applied += sum((a.amount for a in CreditApplication.objects.filter(invoice=inv, applied_on__lte=as_of)),
                           Decimal(0))
            applied += sum((a.amount for a in RetainerApplication.objects.filter(invoice=inv, applied_on__lte=as_of)),
                           Decimal(0))
            applied -= sum((r.amount for r in AllocationReversal.objects.filter(
                allocation__invoice=inv, reversed_on__lte=as_of)), Decimal(0))
            amount = inv.total - applied
        if amount:
            owed.setdefault(inv.customer_id, []).append((inv.due_on, amount))
    return owed
