"""The demo ledger: invoices, payments, credits, retainers, sales orders and subscriptions.

Load after `billing.demo.load_demo_organisation()` (it reads the customers by name). Everything
is written through the services, in one transaction, with dates relative to today so the demo
always has overdue, partially paid and paid invoices, and activity in every group both this calendar
month so far and on the last day of the previous one (the reports' default period and the days it is
compared with). Idempotent: a second run finds the demo invoices (reference DEMO-…) and changes nothing.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing.demo import BRANCH_CITIES, HEAD_OFFICE, branch_name
from billing.models import Customer, Invoice, Item, Payment, Subscription
from billing.services import (
    LineInput,
    apply_credit_note,
    apply_retainer,
    convert_sales_order_to_invoice,
    create_credit_note,
    create_invoice,
    create_sales_order,
    generate_due_subscription_invoices,
    record_payment,
    send_invoice,
)

DEMO_REFERENCE = "DEMO-"


@dataclass(frozen=True)
class DemoLedger:
    invoices: int
    payments: int
    created: bool


def _invoice(customer, issued_on: date, ref: str, *lines, retainer: bool = False) -> Invoice:
    invoice = create_invoice(
        customer=customer,
        issued_on=issued_on,
        reference=f"{DEMO_REFERENCE}{ref}",
        is_retainer=retainer,
        lines=list(lines),
    )
    return send_invoice(invoice=invoice)


def _pay(customer, paid_on: date, amount: Decimal, method: str, reference: str, allocations=None) -> Payment:
    return record_payment(
        customer=customer,
        amount=amount,
        paid_on=paid_on,
        method=method,
        reference=reference,
        allocations={inv.pk: amt for inv, amt in (allocations or {}).items()},
        notes="Demo payment recorded by staff",
    )


@transaction.atomic
def load_demo_ledger(*, today: date | None = None) -> DemoLedger:
    """Create the demo ledger once; later calls return the counts and change nothing."""
    if Invoice.objects.filter(reference__startswith=DEMO_REFERENCE).exists():
        return DemoLedger(Invoice.objects.count(), Payment.objects.count(), created=False)
    today = today or timezone.localdate()
    ago = lambda days: today - timedelta(days=days)  # noqa: E731
    people = {c.display_name: c for c in Customer.objects.all()}
    head = people[HEAD_OFFICE]
    boston, chicago, denver, seattle = (people[branch_name(city)] for city in BRANCH_CITIES)
    items = {item.name: item for item in Item.objects.all()}
    support, firewall = items["Managed network support"], items["Firewall licence"]
    visit, audit, backup = items["On-site visit"], items["Network audit"], items["Backup storage"]

    # Head office: one overdue invoice partly paid, one recent invoice, a retainer paid in advance.
    ho_support = _invoice(head, ago(120), "HO-1", LineInput(item=support, quantity=Decimal("10")))
    ho_licences = _invoice(head, ago(20), "HO-2", LineInput(item=firewall, quantity=Decimal("12")))
    _pay(head, ago(50), Decimal("500.00"), Payment.Method.BANK_TRANSFER, "WIRE 88120", {ho_support: Decimal("500.00")})
    retainer = _invoice(
        head,
        ago(30),
        "HO-RET",
        LineInput(description="Advance for the 2027 network refresh", rate=Decimal("2000.00")),
        retainer=True,
    )
    _pay(head, ago(28), Decimal("2000.00"), Payment.Method.ACH, "ACH 5521", {retainer: Decimal("2000.00")})
    apply_retainer(retainer=retainer, applications={ho_licences.pk: Decimal("300.00")}, applied_on=ago(10))

    # Branches: overdue and recent invoices; one head-office cheque spread over three branches.
    b1 = _invoice(
        boston,
        ago(95),
        "BOS-1",
        LineInput(item=visit, quantity=Decimal("2")),
        LineInput(item=support, quantity=Decimal("4")),
    )
    c1 = _invoice(chicago, ago(80), "CHI-1", LineInput(item=backup, quantity=Decimal("10")))
    d1 = _invoice(denver, ago(70), "DEN-1", LineInput(item=audit))
    _invoice(denver, ago(5), "DEN-2", LineInput(item=support, quantity=Decimal("3.5")))
    _pay(
        head,
        ago(40),
        Decimal("2000.00"),
        Payment.Method.CHEQUE,
        "CHQ 10442",
        {b1: b1.total, c1: Decimal("150.00"), d1: Decimal("2000.00") - b1.total - Decimal("150.00")},
    )
    audit_credit = create_credit_note(
        invoice=d1,
        issued_on=ago(35),
        reason="Audit scope reduced by one site",
        lines=[LineInput(description="One site fewer", rate=Decimal("250.00"))],
    )
    apply_credit_note(credit_note=audit_credit, applications={d1.pk: Decimal("250.00")}, applied_on=ago(35))
    # Seattle keeps its own books: invoiced and paid on its own.
    s1 = _invoice(seattle, ago(40), "SEA-1", LineInput(item=support, quantity=Decimal("6")))
    _pay(seattle, ago(12), s1.total, Payment.Method.CARD, "Card ending 4242", {s1: s1.total})

    # Other customers: a reseller paid in full with a goodwill credit, a retailer overdue, a sales order.
    pixel, acme = people["Pixel Partners"], people["Acme Retail"]
    p1 = _invoice(pixel, ago(60), "PIX-1", LineInput(item=support, quantity=Decimal("8")))
    _pay(pixel, ago(25), p1.total, Payment.Method.BANK_TRANSFER, "WIRE 77310", {p1: p1.total})
    create_credit_note(
        customer=pixel,
        issued_on=ago(15),
        reason="Goodwill for the outage on the 3rd",
        lines=[LineInput(description="Service credit", rate=Decimal("100.00"))],
    )
    _invoice(
        pixel,
        ago(10),
        "PIX-RET",
        LineInput(description="Retainer for Q1 projects", rate=Decimal("1500.00")),
        retainer=True,
    )
    _invoice(acme, ago(75), "ACM-1", LineInput(item=visit), LineInput(item=backup, quantity=Decimal("2")))
    order = create_sales_order(
        customer=acme,
        ordered_on=ago(14),
        reference=f"{DEMO_REFERENCE}SO-1",
        lines=[LineInput(item=firewall, quantity=Decimal("20")), LineInput(item=visit, quantity=Decimal("1"))],
    )
    licences_line = order.lines.get(item=firewall)
    send_invoice(
        invoice=convert_sales_order_to_invoice(
            sales_order=order, issued_on=ago(7), quantities={licences_line.pk: Decimal("10")}
        )
    )
    _pay(acme, ago(3), Decimal("75.00"), Payment.Method.CHEQUE, "CHQ 311")  # not allocated: available credit

    # Head office orders for the whole group: a refresh order half invoiced, a Chicago order still open.
    refresh = create_sales_order(
        customer=head,
        ordered_on=ago(21),
        expected_shipment_on=today + timedelta(days=14),
        reference=f"{DEMO_REFERENCE}SO-2",
        lines=[LineInput(item=firewall, quantity=Decimal("40")), LineInput(item=audit, quantity=Decimal("1"))],
    )
    send_invoice(
        invoice=convert_sales_order_to_invoice(
            sales_order=refresh, issued_on=ago(9), quantities={refresh.lines.get(item=audit).pk: Decimal("1")}
        )
    )
    create_sales_order(
        customer=chicago,
        ordered_on=ago(4),
        expected_shipment_on=today + timedelta(days=10),
        reference=f"{DEMO_REFERENCE}SO-3",
        lines=[LineInput(item=visit, quantity=Decimal("3")), LineInput(item=backup, quantity=Decimal("5"))],
    )

    # The end of last month and this month so far, whatever day today is (the 1st included): the reports
    # open on this calendar month and compare it with the days just before, so each group has both.
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    in_month = lambda days: min(month_start + timedelta(days=days), today)  # noqa: E731
    # Month-end invoices, settled early this month: Boston's by the head office, Acme's by card, Pixel's
    # partly, after a credit for returned licences. New invoices this month for each group.
    b2 = _invoice(
        boston, last_month_end, "BOS-2", LineInput(item=visit), LineInput(item=support, quantity=Decimal("3"))
    )
    p2 = _invoice(pixel, last_month_end, "PIX-2", LineInput(item=firewall, quantity=Decimal("25")))
    a2 = _invoice(acme, last_month_end, "ACM-2", LineInput(item=backup, quantity=Decimal("4")))
    _invoice(chicago, in_month(0), "CHI-2", LineInput(item=support, quantity=Decimal("5")))
    _invoice(seattle, in_month(0), "SEA-2", LineInput(item=backup, quantity=Decimal("6")))
    _invoice(head, in_month(1), "HO-3", LineInput(item=visit, quantity=Decimal("2")))
    _invoice(pixel, in_month(1), "PIX-3", LineInput(item=support, quantity=Decimal("6")))
    _invoice(acme, in_month(1), "ACM-3", LineInput(item=visit))
    _pay(acme, in_month(0), a2.total, Payment.Method.CARD, "Card ending 1009", {a2: a2.total})
    _pay(head, in_month(1), b2.total, Payment.Method.BANK_TRANSFER, "WIRE 90114", {b2: b2.total})
    returned = create_credit_note(
        invoice=p2,
        issued_on=in_month(1),
        reason="Two licences returned unused",
        lines=[LineInput(description="Two firewall licences returned", rate=Decimal("80.00"))],
    )
    apply_credit_note(credit_note=returned, applications={p2.pk: Decimal("80.00")}, applied_on=in_month(1))
    _pay(pixel, in_month(2), Decimal("500.00"), Payment.Method.BANK_TRANSFER, "WIRE 77402", {p2: Decimal("500.00")})

    # The head office subscribes for its branches: firewall licences monthly, backup storage quarterly.
    Subscription.objects.create(
        customer=head,
        plan_name="Firewall licences for the branches",
        item=firewall,
        quantity=Decimal("12"),
        price=None,
        currency=head.currency,
        starts_on=ago(65),
        next_billing_on=ago(65),
    )
    Subscription.objects.create(
        customer=head,
        plan_name="Offsite backup storage",
        item=backup,
        quantity=Decimal("4"),
        price=None,
        currency=head.currency,
        billing_period=Subscription.Period.QUARTERLY,
        starts_on=ago(20),
        next_billing_on=ago(20),
    )

    # Individuals on subscriptions; the generator bills every period started by today.
    maria, tom = people["Maria Lopez"], people["Tom Becker"]
    Subscription.objects.create(
        customer=maria,
        plan_name="Home office support",
        price=Decimal("49.00"),
        currency=maria.currency,
        starts_on=ago(75),
        next_billing_on=ago(75),
    )
    Subscription.objects.create(
        customer=tom,
        plan_name="Firewall licence",
        item=firewall,
        price=None,  # the customer's price for the licence
        currency=tom.currency,
        starts_on=ago(40),
        next_billing_on=ago(40),
        status=Subscription.Status.NON_RENEWING,
        ends_on=today + timedelta(days=300),
    )
    billed = generate_due_subscription_invoices(today=today)
    maria_invoices = [inv for inv in billed if inv.customer_id == maria.pk]
    if maria_invoices:
        first = maria_invoices[0]
        _pay(
            maria,
            first.issued_on + timedelta(days=3),
            first.total,
            Payment.Method.CARD,
            "Card 1881",
            {first: first.total},
        )
    return DemoLedger(Invoice.objects.count(), Payment.objects.count(), created=True)
