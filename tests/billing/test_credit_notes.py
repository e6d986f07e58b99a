from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import CreditApplication, CreditNote, Customer, Invoice
from billing.selectors import balance_summary
from billing.services import (
    LineInput,
    apply_credit_note,
    create_credit_note,
    refund_credit_note,
    void_credit_note,
)
from tests.factories import CreditNoteFactory, CustomerFactory, InvoiceFactory, ItemFactory

pytestmark = pytest.mark.django_db


def test_a_credit_note_from_an_invoice_copies_its_lines_and_is_open_for_its_total():
    invoice = InvoiceFactory(total=Decimal("240.00"))

    note = create_credit_note(invoice=invoice, issued_on=date(2026, 3, 9), reason="Returned switch")

    assert note.number == "CN-00001"
    assert note.customer == invoice.customer
    assert (note.total, note.balance, note.status) == (
        Decimal("240.00"),
        Decimal("240.00"),
        CreditNote.Status.OPEN,
    )
    assert [line.amount for line in note.lines.all()] == [Decimal("240.00")]


def test_a_free_standing_credit_note_is_priced_per_line_without_the_customer_discount():
    customer = CustomerFactory(discount_percent=Decimal("10.00"))
    item = ItemFactory(rate=Decimal("19.99"), tax_percent=Decimal("5.00"))

    note = create_credit_note(customer=customer, lines=[LineInput(item=item, quantity=Decimal("3"))])

    assert (note.subtotal, note.tax_total, note.total) == (
        Decimal("59.97"),
        Decimal("3.00"),
        Decimal("62.97"),
    )


def test_credit_notes_of_one_invoice_cannot_add_up_to_more_than_the_invoice():
    invoice = InvoiceFactory(total=Decimal("100.00"))
    create_credit_note(invoice=invoice, lines=[LineInput(description="Discount", rate=Decimal("60.00"))])

    with pytest.raises(ValidationError) as refused:
        create_credit_note(invoice=invoice, lines=[LineInput(description="More", rate=Decimal("40.01"))])

    assert refused.value.code == "exceeds_invoice_total"
    assert CreditNote.objects.count() == 1


def test_a_parent_credit_note_is_applied_to_a_child_invoice():
    parent = CustomerFactory()
    child_invoice = InvoiceFactory(customer=CustomerFactory(parent=parent), total=Decimal("80.00"))
    note = CreditNoteFactory(customer=parent, total=Decimal("50.00"))

    apply_credit_note(credit_note=note, applications={child_invoice.pk: Decimal("50.00")})

    child_invoice.refresh_from_db()
    note.refresh_from_db()
    assert (child_invoice.balance_due, child_invoice.status) == (
        Decimal("30.00"),
        Invoice.Status.PARTIALLY_PAID,
    )
    assert (note.balance, note.status) == (Decimal("0.00"), CreditNote.Status.CLOSED)


def test_applying_more_credit_than_is_left_is_refused_and_nothing_is_written():
    invoice = InvoiceFactory(total=Decimal("80.00"))
    note = CreditNoteFactory(customer=invoice.customer, total=Decimal("50.00"))

    with pytest.raises(ValidationError) as refused:
        apply_credit_note(credit_note=note, applications={invoice.pk: Decimal("50.01")})

    assert refused.value.code == "exceeds_credit"
    assert "50.00 USD left; 50.01 was requested" in refused.value.messages[0]
    assert not CreditApplication.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).balance_due == Decimal("80.00")


def test_credit_cannot_go_to_a_branch_closed_to_the_parent():
    parent = CustomerFactory()
    invoice = InvoiceFactory(customer=CustomerFactory(parent=parent, allow_parent_access=False))
    note = CreditNoteFactory(customer=parent)

    with pytest.raises(ValidationError) as refused:
        apply_credit_note(credit_note=note, applications={invoice.pk: Decimal("10.00")})

    assert refused.value.code == "not_payable"
    assert CreditNote.objects.get(pk=note.pk).balance == Decimal("50.00")


def test_open_credit_is_refunded_and_the_note_closes_when_nothing_is_left():
    note = CreditNoteFactory(total=Decimal("50.00"))

    refund_credit_note(credit_note=note, amount=Decimal("20.00"), reference="BACS 77")
    refund_credit_note(credit_note=note, amount=Decimal("30.00"))

    note.refresh_from_db()
    assert (note.balance, note.status) == (Decimal("0.00"), CreditNote.Status.CLOSED)
    assert sorted(r.amount for r in note.refunds.all()) == [Decimal("20.00"), Decimal("30.00")]


def test_refunding_more_than_the_open_credit_is_refused():
    note = CreditNoteFactory(total=Decimal("50.00"))

    with pytest.raises(ValidationError) as refused:
        refund_credit_note(credit_note=note, amount=Decimal("50.01"))

    assert refused.value.code == "exceeds_credit"
    assert not note.refunds.exists()


def test_an_unused_credit_note_is_voided_and_no_longer_counts_as_credit():
    note = CreditNoteFactory(total=Decimal("50.00"))

    void_credit_note(credit_note=note)

    note.refresh_from_db()
    assert (note.status, note.balance) == (CreditNote.Status.VOID, Decimal("0.00"))
    assert balance_summary(customers=Customer.objects.filter(pk=note.customer_id)).total.available_credits == 0


def test_a_credit_note_applied_to_an_invoice_cannot_be_voided():
    note = CreditNoteFactory(total=Decimal("50.00"))
    invoice = InvoiceFactory(customer=note.customer, total=Decimal("80.00"))
    apply_credit_note(credit_note=note, applications={invoice.pk: Decimal("20.00")})

    with pytest.raises(ValidationError) as refused:
        void_credit_note(credit_note=note)

    note.refresh_from_db()
    assert refused.value.code == "credit_used"
    assert "20.00 USD of it was applied" in refused.value.messages[0]
    assert (note.status, note.balance) == (CreditNote.Status.OPEN, Decimal("30.00"))


def test_a_partly_refunded_credit_note_cannot_be_voided():
    note = CreditNoteFactory(total=Decimal("50.00"))
    refund_credit_note(credit_note=note, amount=Decimal("5.00"))

    with pytest.raises(ValidationError) as refused:
        void_credit_note(credit_note=note)

    assert refused.value.code == "credit_used"
    assert CreditNote.objects.get(pk=note.pk).status == CreditNote.Status.OPEN


def test_a_void_credit_note_cannot_be_voided_again_or_applied():
    note = CreditNoteFactory(total=Decimal("50.00"))
    invoice = InvoiceFactory(customer=note.customer)
    void_credit_note(credit_note=note)

    with pytest.raises(ValidationError) as again:
        void_credit_note(credit_note=note)
    with pytest.raises(ValidationError) as applied:
        apply_credit_note(credit_note=note, applications={invoice.pk: Decimal("1.00")})

    assert (again.value.code, applied.value.code) == ("already_void", "credit_not_open")
