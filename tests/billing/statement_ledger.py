"""A ledger with every kind of statement movement, for the statement tests (see `statement_ledger`)."""

from datetime import date
from decimal import Decimal

from billing.services import (
    LineInput,
    apply_credit_note,
    apply_retainer,
    create_credit_note,
    create_invoice,
    record_payment,
    refund_credit_note,
    refund_payment,
    refund_retainer,
    send_invoice,
    void_credit_note,
    void_invoice,
)
from tests.factories import CustomerFactory

MARCH = dict(start=date(2026, 3, 1), end=date(2026, 3, 31))


def _invoice(customer, on, amount, *, retainer=False, reference=""):
    invoice = create_invoice(
        customer=customer,
        issued_on=on,
        is_retainer=retainer,
        reference=reference,
        lines=[LineInput(description="Support", rate=Decimal(amount))],
    )
    return send_invoice(invoice=invoice)


def _pay(customer, on, amount, allocations=None, method="cheque", reference=""):
    return record_payment(
        customer=customer,
        amount=Decimal(amount),
        paid_on=on,
        method=method,
        reference=reference,
        allocations={i.pk: Decimal(a) for i, a in (allocations or {}).items()},
    )


def _credit(customer, on, amount, reason="", invoice=None):
    if invoice is not None:
        return create_credit_note(
            invoice=invoice, issued_on=on, reason=reason, lines=[LineInput(description="Fix", rate=Decimal(amount))]
        )
    return create_credit_note(
        customer=customer, issued_on=on, reason=reason, lines=[LineInput(description="Goodwill", rate=Decimal(amount))]
    )


def statement_ledger():
    """A head office with three branches and every kind of movement, before, inside and after March:
    {"hq", "boston", "austin"}. Every kind of the statements' catalogue has movements in March."""
    hq = CustomerFactory(display_name="Acme HQ")
    boston = CustomerFactory(display_name="Acme Boston", parent=hq)
    denver = CustomerFactory(display_name="Acme Denver", parent=hq)
    austin = CustomerFactory(display_name="Acme Austin", parent=hq)
    outsider = CustomerFactory(display_name="Zeta Outside")
    feb, mar, apr = (lambda d: date(2026, 2, d)), (lambda d: date(2026, 3, d)), (lambda d: date(2026, 4, d))

    # Before the period: the opening balances, with a transfer from the head office to a branch.
    old_boston = _invoice(boston, feb(3), "400.00", reference="PO-1")
    _invoice(denver, feb(5), "250.00")
    _pay(hq, feb(20), "300.00", {old_boston: "150.00"})
    _pay(denver, feb(28), "100.00", method="bank_transfer")
    _credit(austin, feb(10), "30.00", reason="Late delivery")

    # Period edges and a void and a draft that never appear.
    first_day = _invoice(boston, mar(1), "120.00")
    _invoice(denver, mar(31), "75.50")
    _invoice(austin, apr(1), "999.00")
    void_invoice(invoice=_invoice(austin, mar(4), "70.00"))
    create_invoice(customer=austin, issued_on=mar(5), lines=[LineInput(description="Draft", rate=Decimal("5.00"))])

    # One busy day: every kind of line on 10 March, across accounts.
    busy_boston = _invoice(boston, mar(10), "210.00", reference="PO-7")
    busy_denver = _invoice(denver, mar(10), "180.00")
    hq_payment = _pay(hq, mar(10), "500.00", {busy_boston: "210.00", busy_denver: "80.00"}, reference="W-1")
    note = _credit(hq, mar(10), "60.00", reason="Volume rebate")
    apply_credit_note(credit_note=note, applications={busy_denver.pk: Decimal("40.00")}, applied_on=mar(10))
    own_payment = _pay(austin, mar(10), "90.00", method="card")
    refund_payment(payment=own_payment, amount=Decimal("20.00"), refunded_on=mar(10), reference="R-1")
    refund_payment(payment=own_payment, amount=Decimal("10.00"), refunded_on=mar(10))

    # A refund of the head office's payment beyond its unallocated money reverses an allocation.
    refund_payment(payment=hq_payment, amount=Decimal("260.00"), refunded_on=mar(14))

    # Credit notes: one for an invoice, one voided, one refunded.
    _credit(boston, mar(12), "20.00", invoice=first_day)
    void_credit_note(credit_note=_credit(denver, mar(13), "15.00"))
    refunded_note = _credit(austin, mar(15), "25.00")
    refund_credit_note(credit_note=refunded_note, amount=Decimal("25.00"), refunded_on=mar(16))

    # Retainers: never a line themselves; the head office's is paid, applied to a branch and partly refunded.
    retainer = _invoice(hq, mar(2), "300.00", retainer=True)
    _pay(hq, mar(3), "300.00", {retainer: "300.00"}, method="bank_transfer")
    late_austin = _invoice(austin, mar(18), "140.00")
    apply_retainer(retainer=retainer, applications={late_austin.pk: Decimal("100.00")}, applied_on=mar(19))
    refund_retainer(retainer=retainer, amount=Decimal("50.00"), refunded_on=mar(20))

    # Two refunds on one day, made in the opposite order to their payments' numbers (lines sort by number).
    earlier, later = _pay(denver, mar(22), "40.00"), _pay(denver, mar(22), "30.00")
    refund_payment(payment=later, amount=Decimal("30.00"), refunded_on=mar(23))
    refund_payment(payment=earlier, amount=Decimal("40.00"), refunded_on=mar(23))

    # A customer outside the hierarchy, and a month of ordinary activity to fill several pages.
    _invoice(outsider, mar(10), "55.00")
    for day in range(21, 29):
        for branch in (boston, denver, austin):
            invoice = _invoice(branch, mar(day), f"{day}.25")
            _pay(branch, mar(day), f"{day}.00", {invoice: f"{day}.00"})
    return {"hq": hq, "boston": boston, "austin": austin}
