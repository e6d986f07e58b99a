import pytest

from billing.services import link_to_parent
from tests.factories import AllocationFactory, ContactPersonFactory, CustomerFactory, StaffUserFactory


@pytest.fixture
def head_office():
    """Head office with a shared branch, a private branch (no parent access), and a grandchild under it."""
    contact = ContactPersonFactory(customer__display_name="Head Office Ltd")
    parent = contact.customer
    shared = CustomerFactory(display_name="Shared Branch")
    link_to_parent(customer=shared, parent=parent, allow_parent_access=True)
    private = CustomerFactory(display_name="Private Branch")
    link_to_parent(customer=private, parent=parent, allow_parent_access=False)
    below_private = CustomerFactory(display_name="Below Private Branch")
    link_to_parent(customer=below_private, parent=private, allow_parent_access=True)
    return dict(contact=contact, parent=parent, shared=shared, private=private, below_private=below_private)


@pytest.fixture
def staff_user():
    return StaffUserFactory(email="staff@billing.example")


@pytest.fixture
def ledger(head_office):
    """Documents for each customer of `head_office`; the private branch's numbers start with "SECRET"."""
    from decimal import Decimal

    from tests.factories import (
        CreditNoteFactory,
        InvoiceFactory,
        PaymentFactory,
        RetainerInvoiceFactory,
        SalesOrderFactory,
        SalesOrderLineFactory,
        SubscriptionFactory,
    )

    out = {}
    for key, prefix, total in (("parent", "HQ", "300.00"), ("shared", "SH", "200.00"),
                               ("private", "SECRET", "700.00"), ("below_private", "SECRET-B", "900.00")):
        customer = head_office[key]
        invoice = InvoiceFactory(customer=customer, number=f"{prefix}-INV-1", total=Decimal(total))
        paid = InvoiceFactory(customer=customer, number=f"{prefix}-INV-2", total=Decimal("50.00"),
                              balance_due=Decimal("0.00"), status="paid")
        payment = PaymentFactory(customer=customer, number=f"{prefix}-PAY-1", amount=Decimal("50.00"),
                                 unallocated=Decimal("0.00"), reference=f"{prefix}-REF")
        AllocationFactory(payment=payment, invoice=paid, amount=Decimal("50.00"))
        retainer = RetainerInvoiceFactory(customer=customer, number=f"{prefix}-RET-1", total=Decimal("40.00"))
        credit = CreditNoteFactory(customer=customer, number=f"{prefix}-CN-1", total=Decimal("10.00"))
        order = SalesOrderFactory(customer=customer, number=f"{prefix}-SO-1", total=Decimal("100.00"))
        SalesOrderLineFactory(sales_order=order)
        subscription = SubscriptionFactory(customer=customer, plan_name=f"{prefix} plan")
        out[key] = dict(invoice=invoice, paid=paid, payment=payment, retainer=retainer, credit=credit,
                        order=order, subscription=subscription)
    return out
