from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import DocumentSequence, Invoice, PriceList
from billing.services import (
    LineInput,
    allocate_payment,
    create_invoice,
    recalculate_draft_invoice,
    send_invoice,
    void_invoice,
)
from tests.factories import (
    CustomerFactory,
    CustomerGroupFactory,
    InvoiceFactory,
    ItemFactory,
    PaymentFactory,
    PriceListFactory,
    PriceListItemFactory,
)

pytestmark = pytest.mark.django_db

MARCH_1 = date(2026, 3, 1)


def test_each_line_is_rounded_half_up_before_the_lines_are_added():
    customer = CustomerFactory()
    line = LineInput(description="Cabling, metres", quantity=Decimal("1.5"), rate=Decimal("3.33"))

    invoice = create_invoice(customer=customer, lines=[line, line, line], issued_on=MARCH_1)

    assert [x.amount for x in invoice.lines.all()] == [Decimal("5.00")] * 3  # 4.995 each
    assert invoice.subtotal == Decimal("15.00")  # not 14.99, the rounded sum of 14.985
    assert invoice.total == Decimal("15.00")
    assert invoice.balance_due == Decimal("15.00")


def test_the_group_discount_and_the_item_tax_are_applied_per_line():
    group = CustomerGroupFactory(discount_percent=Decimal("10.00"))
    customer = CustomerFactory(group=group)
    item = ItemFactory(rate=Decimal("33.35"), tax_percent=Decimal("8.25"))

    invoice = create_invoice(
        customer=customer, lines=[LineInput(item=item, quantity=Decimal("3"))], issued_on=MARCH_1
    )

    line = invoice.lines.get()
    assert line.rate == Decimal("33.35")
    assert line.discount_percent == Decimal("10.00")
    assert line.amount == Decimal("90.05")  # 100.05 − 10% = 90.045 → 90.05
    assert line.discount_amount == Decimal("10.00")
    assert line.tax_amount == Decimal("7.43")  # 8.25% of 90.05 = 7.429125
    assert (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total) == (
        Decimal("90.05"),
        Decimal("10.00"),
        Decimal("7.43"),
        Decimal("97.48"),
    )


def test_a_customer_discount_override_beats_the_group_discount():
    customer = CustomerFactory(
        group=CustomerGroupFactory(discount_percent=Decimal("10.00")), discount_percent=Decimal("0.00")
    )

    invoice = create_invoice(
        customer=customer, lines=[LineInput(item=ItemFactory(rate=Decimal("50.00")))], issued_on=MARCH_1
    )

    assert invoice.total == Decimal("50.00")


def test_rates_come_from_the_groups_per_item_price_list():
    listed = PriceListItemFactory(rate=Decimal("90.00"))
    customer = CustomerFactory(group=CustomerGroupFactory(price_list=listed.price_list))
    unlisted = ItemFactory(rate=Decimal("12.00"))

    invoice = create_invoice(
        customer=customer,
        issued_on=MARCH_1,
        lines=[LineInput(item=listed.item, quantity=Decimal("2")), LineInput(item=unlisted)],
    )

    assert [x.rate for x in invoice.lines.all()] == [Decimal("90.00"), Decimal("12.00")]
    assert invoice.total == Decimal("192.00")


def test_a_percentage_price_list_moves_the_rate_and_rounds_it_once():
    markdown = PriceListFactory(kind=PriceList.Kind.PERCENTAGE, percentage=Decimal("-15.00"))
    customer = CustomerFactory(group=CustomerGroupFactory(price_list=markdown))

    invoice = create_invoice(
        customer=customer,
        issued_on=MARCH_1,
        lines=[LineInput(item=ItemFactory(rate=Decimal("19.99")), quantity=Decimal("3"))],
    )

    assert invoice.lines.get().rate == Decimal("16.99")  # 16.9915
    assert invoice.total == Decimal("50.97")


def test_the_due_date_follows_the_effective_payment_terms():
    in_group = CustomerFactory(group=CustomerGroupFactory(payment_terms_days=45))
    overriding = CustomerFactory(group=in_group.group, payment_terms_days=15)
    line = LineInput(description="Audit", rate=Decimal("10.00"))

    assert create_invoice(customer=in_group, lines=[line], issued_on=MARCH_1).due_on == date(2026, 4, 15)
    assert create_invoice(customer=overriding, lines=[line], issued_on=MARCH_1).due_on == date(2026, 3, 16)


def test_numbers_follow_the_configured_series_without_gaps_when_a_creation_fails():
    DocumentSequence.objects.create(
        kind=DocumentSequence.Kind.INVOICE, prefix="NW-", padding=4, next_number=7
    )
    customer = CustomerFactory()
    line = LineInput(description="Audit", rate=Decimal("10.00"))

    first = create_invoice(customer=customer, lines=[line], issued_on=MARCH_1)
    with pytest.raises(ValidationError), transaction.atomic():
        create_invoice(customer=customer, lines=[line, LineInput(description="Bad", rate=Decimal("-1.00"))])
    second = create_invoice(customer=customer, lines=[line], issued_on=MARCH_1)
    retainer = create_invoice(customer=customer, lines=[line], issued_on=MARCH_1, is_retainer=True)

    assert (first.number, second.number, retainer.number) == ("NW-0007", "NW-0008", "RET-00001")


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (LineInput(description="No rate"), "missing_rate"),
        (LineInput(description="Zero", rate=Decimal("1.00"), quantity=Decimal("0")), "bad_quantity"),
        (LineInput(description="Half cent", rate=Decimal("1.005")), "bad_rate"),
        (
            LineInput(description="Too much", rate=Decimal("1.00"), discount_percent=Decimal("120")),
            "bad_percent",
        ),
    ],
)
def test_a_line_that_cannot_be_priced_is_refused_and_nothing_is_written(line, code):
    customer = CustomerFactory()

    with pytest.raises(ValidationError) as refused:
        create_invoice(customer=customer, lines=[line])

    assert refused.value.code == code
    assert not Invoice.objects.exists()


def test_sending_a_draft_makes_it_payable_and_sending_it_again_is_refused():
    invoice = create_invoice(
        customer=CustomerFactory(),
        issued_on=MARCH_1,
        lines=[LineInput(description="Audit", rate=Decimal("10.00"))],
    )

    send_invoice(invoice=invoice)
    with pytest.raises(ValidationError) as refused:
        send_invoice(invoice=invoice)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.SENT and invoice.sent_at is not None
    assert refused.value.code == "not_draft"


def test_an_invoice_of_zero_cannot_be_sent():
    invoice = create_invoice(
        customer=CustomerFactory(), lines=[LineInput(description="Free", rate=Decimal("0"))]
    )

    with pytest.raises(ValidationError) as refused:
        send_invoice(invoice=invoice)

    assert refused.value.code == "empty_invoice"


def test_a_draft_edited_in_the_back_office_is_recalculated_per_line():
    invoice = create_invoice(
        customer=CustomerFactory(),
        issued_on=MARCH_1,
        lines=[LineInput(description="Audit", rate=Decimal("10.00"))],
    )
    invoice.lines.update(quantity=Decimal("2.5"), rate=Decimal("0.99"), tax_percent=Decimal("10"))

    recalculate_draft_invoice(invoice=invoice)

    invoice.refresh_from_db()
    assert (invoice.subtotal, invoice.tax_total, invoice.total, invoice.balance_due) == (
        Decimal("2.48"),
        Decimal("0.25"),
        Decimal("2.73"),
        Decimal("2.73"),
    )


def test_a_sent_invoice_is_not_recalculated():
    invoice = InvoiceFactory()

    with pytest.raises(ValidationError) as refused:
        recalculate_draft_invoice(invoice=invoice)

    assert refused.value.code == "not_draft"


def test_voiding_an_unpaid_invoice_takes_it_out_of_what_is_owed():
    invoice = InvoiceFactory(total=Decimal("75.00"))

    void_invoice(invoice=invoice)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    assert invoice.balance_due == Decimal("0.00")
    assert not Invoice.objects.open().exists()


def test_an_invoice_with_a_payment_applied_cannot_be_voided():
    invoice = InvoiceFactory(total=Decimal("75.00"))
    allocate_payment(
        payment=PaymentFactory(customer=invoice.customer), allocations={invoice.pk: Decimal("25.00")}
    )

    with pytest.raises(ValidationError) as refused:
        void_invoice(invoice=invoice)

    invoice.refresh_from_db()
    assert refused.value.code == "has_applications"
    assert "25.00 USD" in refused.value.messages[0]
    assert invoice.status == Invoice.Status.PARTIALLY_PAID
