from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Invoice, SalesOrder
from billing.services import (
    LineInput,
    allocate_payment,
    confirm_sales_order,
    convert_sales_order_to_invoice,
    create_sales_order,
    send_invoice,
    update_draft_sales_order,
    void_invoice,
)
from tests.factories import (
    CustomerFactory,
    CustomerGroupFactory,
    ItemFactory,
    PaymentFactory,
    PriceListItemFactory,
)

pytestmark = pytest.mark.django_db


def _order():
    listed = PriceListItemFactory(rate=Decimal("42.50"))
    customer = CustomerFactory(group=CustomerGroupFactory(price_list=listed.price_list))
    return create_sales_order(
        customer=customer,
        ordered_on=date(2026, 3, 2),
        lines=[
            LineInput(item=listed.item, quantity=Decimal("4")),
            LineInput(item=ItemFactory(rate=Decimal("10.00")), quantity=Decimal("2")),
        ],
    )


def test_a_sales_order_is_numbered_and_priced_from_the_group_price_list():
    order = _order()

    assert order.number == "SO-00001"
    assert order.total == Decimal("190.00")
    assert order.invoiced_status == SalesOrder.InvoicedStatus.NOT_INVOICED


def test_converting_part_of_an_order_marks_it_partially_invoiced_then_the_rest_invoiced():
    order = _order()
    first_line, second_line = order.lines.all()

    partial = convert_sales_order_to_invoice(sales_order=order, quantities={first_line.pk: Decimal("1")})
    order.refresh_from_db()
    status_after_part = order.invoiced_status
    rest = convert_sales_order_to_invoice(sales_order=order)

    order.refresh_from_db()
    assert status_after_part == SalesOrder.InvoicedStatus.PARTIALLY_INVOICED
    assert order.invoiced_status == SalesOrder.InvoicedStatus.INVOICED
    assert (partial.total, rest.total) == (Decimal("42.50"), Decimal("147.50"))
    assert (rest.status, rest.sales_order) == (Invoice.Status.DRAFT, order)


def test_invoicing_more_than_was_ordered_is_refused_and_nothing_is_written():
    order = _order()
    line = order.lines.first()

    with pytest.raises(ValidationError) as refused:
        convert_sales_order_to_invoice(sales_order=order, quantities={line.pk: Decimal("4.001")})

    assert refused.value.code == "exceeds_ordered"
    assert not Invoice.objects.exists()


def test_a_fully_invoiced_order_cannot_be_invoiced_again():
    order = _order()
    convert_sales_order_to_invoice(sales_order=order)

    with pytest.raises(ValidationError) as refused:
        convert_sales_order_to_invoice(sales_order=order)

    assert refused.value.code == "already_invoiced"


def test_voiding_an_invoice_from_an_order_gives_its_quantities_back_and_moves_the_status_back():
    order = _order()
    first_line, second_line = order.lines.all()
    kept = convert_sales_order_to_invoice(sales_order=order, quantities={first_line.pk: Decimal("1")})
    rest = send_invoice(invoice=convert_sales_order_to_invoice(sales_order=order))

    void_invoice(invoice=rest)

    order.refresh_from_db()
    first_line.refresh_from_db()
    second_line.refresh_from_db()
    assert (first_line.quantity_invoiced, second_line.quantity_invoiced) == (Decimal("1"), Decimal("0"))
    assert order.invoiced_status == SalesOrder.InvoicedStatus.PARTIALLY_INVOICED
    assert kept.status == Invoice.Status.DRAFT


def test_voiding_the_only_invoice_of_an_order_makes_it_not_invoiced_and_invoiceable_again():
    order = _order()
    invoice = convert_sales_order_to_invoice(sales_order=order)

    void_invoice(invoice=invoice)
    again = convert_sales_order_to_invoice(sales_order=order)

    order.refresh_from_db()
    assert order.invoiced_status == SalesOrder.InvoicedStatus.INVOICED
    assert again.total == Decimal("190.00")
    assert [line.sales_order_line_id for line in again.lines.all()] == [line.pk for line in order.lines.all()]


def test_a_refused_void_leaves_the_orders_quantities_alone():
    order = _order()
    invoice = send_invoice(invoice=convert_sales_order_to_invoice(sales_order=order))
    payment = PaymentFactory(customer=order.customer, amount=Decimal("10.00"))
    allocate_payment(payment=payment, allocations={invoice.pk: Decimal("10.00")})

    with pytest.raises(ValidationError):
        void_invoice(invoice=invoice)

    order.refresh_from_db()
    assert order.invoiced_status == SalesOrder.InvoicedStatus.INVOICED
    assert all(line.quantity_invoiced == line.quantity for line in order.lines.all())


def test_a_draft_order_is_edited_repriced_and_then_confirmed():
    order = create_sales_order(
        customer=CustomerFactory(discount_percent=Decimal("10.00")),
        status=SalesOrder.Status.DRAFT,
        lines=[LineInput(description="Router", rate=Decimal("20.00"))],
    )

    update_draft_sales_order(
        sales_order=order,
        customer=order.customer,
        ordered_on=date(2026, 3, 4),
        lines=[LineInput(description="Switch", quantity=Decimal("3"), rate=Decimal("33.35"))],
    )
    confirm_sales_order(sales_order=order)

    order.refresh_from_db()
    assert [line.description for line in order.lines.all()] == ["Switch"]
    assert (order.total, order.discount_total, order.status) == (
        Decimal("90.05"),
        Decimal("10.00"),
        SalesOrder.Status.CONFIRMED,
    )


def test_a_confirmed_order_cannot_be_edited_or_confirmed_again():
    order = _order()

    with pytest.raises(ValidationError) as edit:
        update_draft_sales_order(
            sales_order=order,
            customer=order.customer,
            ordered_on=date(2026, 3, 4),
            lines=[LineInput(description="X", rate=Decimal("1.00"))],
        )
    with pytest.raises(ValidationError) as confirm:
        confirm_sales_order(sales_order=order)

    assert (edit.value.code, confirm.value.code) == ("not_draft", "not_draft")
    assert order.lines.count() == 2


def test_a_draft_order_is_not_invoiced_until_confirmed():
    order = create_sales_order(
        customer=CustomerFactory(),
        status=SalesOrder.Status.DRAFT,
        lines=[LineInput(description="X", rate=Decimal("5"))],
    )

    with pytest.raises(ValidationError) as refused:
        convert_sales_order_to_invoice(sales_order=order)

    assert refused.value.code == "sales_order_not_confirmed"
    assert not Invoice.objects.exists()
