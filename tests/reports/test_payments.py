"""Payments received in a period: totals by method and gateway that reconcile with the ledger's rows."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from billing.gateways import DisputeInfo
from billing.models import Payment, Refund
from billing.services import record_payment, refund_payment
from billing.services.disputes import record_dispute
from reports.selectors.balances import balances_report
from reports.selectors.hierarchy import NO_GROUP
from reports.selectors.payments import RECEIVED, payments_received, payments_report
from tests.factories import CustomerFactory

from .ledger import invoice, northwind

pytestmark = pytest.mark.django_db

PAYMENTS = reverse("admin:reports_payments")
D = Decimal


def _card(customer, on: date, amount: str, intent: str, bill=None):
    return record_payment(
        customer=customer,
        amount=D(amount),
        paid_on=on,
        method="card",
        gateway="stripe",
        gateway_payment_id=intent,
        allocations={bill.pk: D(amount)} if bill else None,
    )


def _dispute(payment, dispute_id: str, status: str):
    info = DisputeInfo(
        id=dispute_id,
        amount=payment.amount,
        currency=payment.currency,
        status=status,
        intent_id=payment.gateway_payment_id,
    )
    record_dispute(payment=Payment.objects.get(pk=payment.pk), info=info, gateway="stripe")


@pytest.fixture
def ledger():
    """Northwind's cheques (one refunded in part) and, today, card payments: one disputed and still held, one
    disputed and won, one refunded through the gateway."""
    story = northwind()
    today = timezone.localdate()
    shop = CustomerFactory(display_name="Card Shop")
    held = _card(shop, today, "60.00", "pi_held", invoice(shop, today, "60.00"))
    won = _card(shop, today, "45.00", "pi_won", invoice(shop, today, "45.00"))
    refunded = _card(shop, today, "30.00", "pi_refunded")
    _dispute(held, "du_held", "needs_response")
    _dispute(won, "du_won", "needs_response")
    _dispute(won, "du_won", "won")
    refund_payment(payment=refunded, amount=D("10.00"), refunded_on=today)
    return story, shop


def _naive(start: date, end: date, currency: str = "USD") -> dict:
    payments = Payment.objects.filter(currency=currency, status__in=RECEIVED, paid_on__range=(start, end))
    refunds = Refund.objects.filter(
        currency=currency, status__in=Refund.COUNTED, payment__isnull=False, refunded_on__range=(start, end)
    )
    return {
        "payments": payments.count(),
        "received": payments.aggregate(s=Sum("amount"))["s"] or D(0),
        "refunded": refunds.filter(dispute__isnull=True).aggregate(s=Sum("amount"))["s"] or D(0),
        "held": refunds.filter(dispute__isnull=False).aggregate(s=Sum("amount"))["s"] or D(0),
    }


@pytest.mark.parametrize(
    "start, end",
    [(date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 1, 1), None)],
)
def test_the_totals_are_the_sums_of_the_payment_and_refund_rows(ledger, start, end):
    end = end or timezone.localdate()

    report = payments_report(start=start, end=end, currency="USD")

    naive = _naive(start, end)
    totals = report.totals
    assert (totals.payments, totals.received, totals.refunded, totals.held) == (
        naive["payments"],
        naive["received"],
        naive["refunded"],
        naive["held"],
    )
    assert totals.net == totals.received - totals.refunded - totals.held
    assert sum(line.received for line in report.rows) == totals.received


def test_methods_and_gateways_are_apart_and_a_won_dispute_holds_nothing(ledger):
    today = timezone.localdate()

    report = payments_report(start=date(2026, 1, 1), end=today, currency="USD")

    lines = {line.label: line for line in report.rows}
    assert set(lines) == {"Cheque", "Card (stripe)"}
    card = lines["Card (stripe)"]
    assert (card.payments, card.received) == (3, D("135.00"))
    assert (card.refunds, card.refunded) == (1, D("10.00"))
    assert (card.disputes, card.held) == (1, D("60.00"))  # the won dispute's hold was canceled
    assert card.net == D("65.00")
    cheque = lines["Cheque"]
    assert (cheque.payments, cheque.received, cheque.refunded, cheque.held) == (4, D("1550.00"), D("100.00"), D(0))


def test_received_and_refunded_reconcile_with_the_customer_balances_statement_figures(ledger):
    period = dict(start=date(2026, 1, 1), end=timezone.localdate(), currency="USD")

    payments = payments_report(**period).totals
    balances = balances_report(**period).totals

    assert payments.received == balances.paid
    # every refund of this ledger is a payment's (no credit note or retainer refunded): a hold is a refund too
    assert payments.refunded + payments.held == balances.refunded


def test_the_group_filter_reads_the_payers_group(ledger):
    story, shop = ledger
    today = timezone.localdate()

    enterprise = payments_report(start=date(2026, 1, 1), end=today, currency="USD", group=story.hq.group_id)
    nobody = payments_report(start=date(2026, 1, 1), end=today, currency="USD", group=NO_GROUP)

    assert enterprise.totals.received == D("1250.00")  # HQ's 600 and 400, Boston's 250
    assert nobody.totals.received == D("135.00") and nobody.totals.held == D("60.00")  # the card shop
    listed = payments_received(start=date(2026, 1, 1), end=today, currency="USD", group=NO_GROUP)
    assert {p.customer_id for p in listed} == {shop.pk}


# --- the page -------------------------------------------------------------------------------------


def test_the_page_shows_the_totals_and_the_payments(staff, ledger):
    response = staff.get(PAYMENTS, {"start": "2026-01-01"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Card (stripe)" in html and "$60.00" in html and "Disputed" in html
    assert len(response.context["payments"]) == 7
    by_amount = staff.get(PAYMENTS, {"start": "2026-01-01", "sort": "amount"})
    assert by_amount.context["payments"][0]["payment"].amount == D("600.00")


def test_payments_are_paged_fifty_at_a_time(staff):
    customer = CustomerFactory()
    for n in range(55):
        record_payment(customer=customer, amount=D(f"{n + 1}.00"), paid_on=date(2026, 5, 4), method="cash")

    first = staff.get(PAYMENTS, {"start": "2026-05-01", "end": "2026-05-31"})
    second = staff.get(PAYMENTS, {"start": "2026-05-01", "end": "2026-05-31", "page": 2})

    assert len(first.context["payments"]) == 50 and len(second.context["payments"]) == 5
    assert "Rows 51–55 of 55" in second.content.decode()
    assert first.context["report"].totals.received == D(55 * 56 / 2).quantize(D("0.01"))


def test_the_csv_lists_every_payment_and_guards_formulas(staff, ledger):
    evil = CustomerFactory(display_name='=HYPERLINK("http://evil")')
    record_payment(customer=evil, amount=D("5.00"), paid_on=date(2026, 3, 3), method="cash")

    response = staff.get(PAYMENTS, {"start": "2026-03-01", "end": "2026-03-31", "format": "csv"})

    assert 'filename="payments-received-2026-03-01-2026-03-31.csv"' in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("Receipt,Date,Payer,Method,Gateway,Status,Amount")
    assert len(lines) == 1 + 3  # HQ's and Austin's cheques, and the new one
    assert any("'=HYPERLINK" in line for line in lines)


def test_an_empty_period_says_so(staff):
    response = staff.get(PAYMENTS)

    assert response.status_code == 200
    assert "No payment was received, refunded or disputed" in response.content.decode()


def test_the_query_count_does_not_grow_with_the_payments(staff, django_assert_max_num_queries):
    customer = CustomerFactory()
    period = {"start": "2026-05-01", "end": "2026-05-31"}
    record_payment(customer=customer, amount=D("1.00"), paid_on=date(2026, 5, 4), method="cash")
    staff.get(PAYMENTS, period)  # session, permissions and content types warm
    with django_assert_max_num_queries(12) as few:
        staff.get(PAYMENTS, period)
    for n in range(40):
        payer = CustomerFactory()
        record_payment(
            customer=payer,
            amount=D("2.00"),
            paid_on=date(2026, 5, 5),
            method="card",
            gateway="stripe",
            gateway_payment_id=f"pi_{n}",
        )
    with django_assert_max_num_queries(len(few)):
        response = staff.get(PAYMENTS, period)
    assert len(response.context["payments"]) == 41
