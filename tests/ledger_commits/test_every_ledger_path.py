"""Every way money moves in the ledger, run with real commits, then `check_ledger`.

These tests are transactional (`transaction=True`): each service commits as it does in production,
and on-commit callbacks (sandbox events, receipts, tasks) run where Django runs them, inside the
outermost atomic block's exit. The autouse fixture in conftest.py asserts that every kept
`AccountBalance` row equals the figures recomputed from the documents after each test.
"""

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from billing.gateways.sandbox import SandboxGateway
from billing.models import (
    AccountBalance,
    CheckoutAttempt,
    CreditNote,
    Invoice,
    Payment,
)
from billing.services import (
    LineInput,
    allocate_oldest_first,
    allocate_payment,
    apply_credit_note,
    apply_retainer,
    bill_subscription,
    convert_sales_order_to_invoice,
    create_credit_note,
    create_invoice,
    create_sales_order,
    record_payment,
    refund_credit_note,
    refund_payment,
    refund_retainer,
    send_invoice,
    void_credit_note,
    void_invoice,
)
from billing.services.online_payments import (
    close_sandbox_dispute,
    confirm_checkout,
    fail_sandbox_refund,
    open_sandbox_dispute,
    refund_online_payment,
    settle_sandbox_payment,
    start_checkout,
)
from tests.factories import CustomerFactory, StaffUserFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = timezone.localdate()


def _kept(customer) -> AccountBalance:
    return AccountBalance.objects.get(customer=customer)


def _sent_invoice(customer, amount="100.00") -> Invoice:
    invoice = create_invoice(customer=customer, lines=[LineInput(description="Support", rate=Decimal(amount))])
    return send_invoice(invoice=invoice)


def _sandbox_pay(office, scenario, *, method=Payment.Method.CARD, invoice_key="east_invoice", amount="120.00"):
    gateway = SandboxGateway()
    attempt = start_checkout(
        payer=office["hq"],
        allocations={office[invoice_key].pk: Decimal(amount)},
        currency="USD",
        method=method,
        started_by=office["contact"].user,
        gateway=gateway,
    )
    return confirm_checkout(
        attempt=attempt, payment_method_id=gateway.create_payment_method(scenario=scenario), gateway=gateway
    )


# Documents --------------------------------------------------------------------------------------


def test_sending_and_voiding_invoices():
    customer = CustomerFactory()
    kept_invoice = _sent_invoice(customer, "40.00")
    voided = _sent_invoice(customer, "60.00")
    assert _kept(customer).outstanding_invoices == Decimal("100.00")

    void_invoice(invoice=voided)

    assert _kept(customer).outstanding_invoices == Decimal("40.00")
    assert Invoice.objects.get(pk=kept_invoice.pk).status == Invoice.Status.SENT


def test_sales_order_conversion_and_subscription_billing():
    customer = CustomerFactory()
    order = create_sales_order(customer=customer, lines=[LineInput(description="Router", rate=Decimal("75.00"))])
    invoice = convert_sales_order_to_invoice(sales_order=order)
    send_invoice(invoice=invoice)
    subscription = SubscriptionFactory(customer=customer, price=Decimal("49.00"))
    billed = bill_subscription(subscription=subscription, today=TODAY)

    assert billed
    expected = Decimal("75.00") + sum((inv.total for inv in Invoice.objects.filter(subscription=subscription)
                                       .exclude(status=Invoice.Status.DRAFT)), Decimal("0"))
    assert _kept(customer).outstanding_invoices == expected


# Offline money ----------------------------------------------------------------------------------


def test_an_offline_payment_allocated_then_refunded_with_its_allocations_reversed():
    parent = CustomerFactory()
    branch = CustomerFactory(parent=parent, allow_parent_access=True)
    invoice = _sent_invoice(branch, "80.00")
    payment = record_payment(
        customer=parent, amount=Decimal("100.00"), paid_on=TODAY, method=Payment.Method.BANK_TRANSFER,
        allocations={invoice.pk: Decimal("80.00")},
    )
    assert (_kept(branch).outstanding_invoices, _kept(parent).available_credits) == (Decimal("0.00"), Decimal("20.00"))

    refund_payment(payment=payment, amount=Decimal("50.00"))

    # 20.00 of excess refunded first, then 30.00 taken back from the branch's invoice.
    assert (_kept(branch).outstanding_invoices, _kept(parent).available_credits) == (Decimal("30.00"), Decimal("0.00"))


def test_pay_oldest_first_and_a_later_allocation():
    customer = CustomerFactory()
    older = _sent_invoice(customer, "30.00")
    newer = _sent_invoice(customer, "50.00")
    payment = record_payment(customer=customer, amount=Decimal("60.00"), paid_on=TODAY, method=Payment.Method.CASH)
    allocate_oldest_first(payment=payment)
    assert _kept(customer).outstanding_invoices == Decimal("20.00")

    second = record_payment(customer=customer, amount=Decimal("20.00"), paid_on=TODAY, method=Payment.Method.CASH)
    allocate_payment(payment=second, allocations={newer.pk: Decimal("20.00")})

    assert _kept(customer).outstanding_invoices == Decimal("0.00")
    assert Invoice.objects.get(pk=older.pk).status == Invoice.Status.PAID


def test_credit_notes_applied_refunded_and_voided():
    customer = CustomerFactory()
    invoice = _sent_invoice(customer, "100.00")
    note = create_credit_note(customer=customer, lines=[LineInput(description="Goodwill", rate=Decimal("70.00"))])
    apply_credit_note(credit_note=note, applications={invoice.pk: Decimal("40.00")})
    refund_credit_note(credit_note=CreditNote.objects.get(pk=note.pk), amount=Decimal("10.00"))
    assert (_kept(customer).outstanding_invoices, _kept(customer).available_credits) == (
        Decimal("60.00"), Decimal("20.00"))

    spare = create_credit_note(customer=customer, lines=[LineInput(description="Spare", rate=Decimal("5.00"))])
    void_credit_note(credit_note=spare)

    assert _kept(customer).available_credits == Decimal("20.00")


def test_retainers_paid_applied_and_refunded():
    customer = CustomerFactory()
    retainer = send_invoice(invoice=create_invoice(
        customer=customer, is_retainer=True, lines=[LineInput(description="Advance", rate=Decimal("90.00"))]))
    assert _kept(customer).outstanding_retainers == Decimal("90.00")
    record_payment(customer=customer, amount=Decimal("90.00"), paid_on=TODAY, method=Payment.Method.CASH,
                   allocations={retainer.pk: Decimal("90.00")})
    invoice = _sent_invoice(customer, "50.00")
    apply_retainer(retainer=Invoice.objects.get(pk=retainer.pk), applications={invoice.pk: Decimal("50.00")})
    refund_retainer(retainer=Invoice.objects.get(pk=retainer.pk), amount=Decimal("15.00"))

    kept = _kept(customer)
    assert (kept.outstanding_retainers, kept.available_retainer_payments, kept.outstanding_invoices) == (
        Decimal("0.00"), Decimal("25.00"), Decimal("0.00"))


# Online money (sandbox gateway, events delivered after commit) ---------------------------------


def test_a_card_payment(settings, head_office):
    settings.PAYMENT_GATEWAY = "sandbox"
    attempt = _sandbox_pay(head_office, "card_success")

    assert attempt.status == CheckoutAttempt.Status.SUCCEEDED
    assert _kept(head_office["east"]).outstanding_invoices == Decimal("0.00")


def test_an_ach_debit_that_fails_frees_its_invoice(settings, head_office):
    settings.PAYMENT_GATEWAY = "sandbox"
    attempt = _sandbox_pay(head_office, "ach_fails", method=Payment.Method.ACH)
    settle_sandbox_payment(attempt=attempt, succeed=False)

    assert CheckoutAttempt.objects.get(pk=attempt.pk).status == CheckoutAttempt.Status.FAILED
    assert _kept(head_office["east"]).outstanding_invoices == Decimal("120.00")


def test_an_online_refund_through_the_gateway(settings, head_office):
    settings.PAYMENT_GATEWAY = "sandbox"
    attempt = _sandbox_pay(head_office, "card_success")

    refund_online_payment(payment=Payment.objects.get(pk=attempt.payment_id), amount=Decimal("20.00"))

    assert _kept(head_office["east"]).outstanding_invoices == Decimal("20.00")


def test_a_refund_that_fails_at_the_gateway_gives_the_money_back(settings, head_office):
    settings.PAYMENT_GATEWAY = "sandbox"
    attempt = _sandbox_pay(head_office, "card_success")
    refund = refund_online_payment(payment=Payment.objects.get(pk=attempt.payment_id), amount=Decimal("30.00"))
    assert _kept(head_office["east"]).outstanding_invoices == Decimal("30.00")

    fail_sandbox_refund(refund=refund)

    assert _kept(head_office["east"]).outstanding_invoices == Decimal("0.00")


@pytest.mark.parametrize("won, owed_after", [(True, "0.00"), (False, "120.00")])
def test_a_card_dispute_opened_then_won_or_lost(settings, head_office, won, owed_after):
    settings.PAYMENT_GATEWAY = "sandbox"
    attempt = _sandbox_pay(head_office, "card_success")
    payment = Payment.objects.get(pk=attempt.payment_id)

    open_sandbox_dispute(payment=payment)
    assert _kept(head_office["east"]).outstanding_invoices == Decimal("120.00")
    assert Payment.objects.get(pk=payment.pk).disputed

    close_sandbox_dispute(payment=Payment.objects.get(pk=payment.pk), won=won)

    assert _kept(head_office["east"]).outstanding_invoices == Decimal(owed_after)


# The back office ---------------------------------------------------------------------------------


def _run_action(client, model, action, objects):
    info = model._meta.app_label, model._meta.model_name
    return client.post(
        reverse(f"admin:{info[0]}_{info[1]}_changelist"),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(obj.pk) for obj in objects]},
    )


def test_admin_actions_send_void_pay_oldest_first_and_settle(client, settings, head_office):
    settings.PAYMENT_GATEWAY = "sandbox"
    client.force_login(StaffUserFactory())
    customer = CustomerFactory()
    drafts = [create_invoice(customer=customer, lines=[LineInput(description="Work", rate=Decimal(v))])
              for v in ("10.00", "20.00")]
    _run_action(client, Invoice, "send_selected", drafts)
    assert _kept(customer).outstanding_invoices == Decimal("30.00")
    _run_action(client, Invoice, "void_selected", drafts[:1])
    payment = record_payment(customer=customer, amount=Decimal("25.00"), paid_on=TODAY, method=Payment.Method.CASH)
    _run_action(client, Payment, "pay_oldest_first", [payment])
    assert (_kept(customer).outstanding_invoices, _kept(customer).available_credits) == (
        Decimal("0.00"), Decimal("5.00"))

    attempt = _sandbox_pay(head_office, "ach_settles", method=Payment.Method.ACH)
    _run_action(client, CheckoutAttempt, "settle_sandbox", [attempt])

    assert CheckoutAttempt.objects.get(pk=attempt.pk).status == CheckoutAttempt.Status.SUCCEEDED
    assert _kept(head_office["east"]).outstanding_invoices == Decimal("0.00")


# Writes no service made ---------------------------------------------------------------------------


def test_a_write_outside_any_service_keeps_the_figures_too():
    """A data fix in the shell or an admin save: the models name the accounts they change."""
    customer = CustomerFactory()
    invoice = _sent_invoice(customer, "100.00")

    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.VOID, balance_due=Decimal("0.00"))
    assert _kept(customer).outstanding_invoices == Decimal("0.00")

    invoice.refresh_from_db()
    invoice.status, invoice.balance_due = Invoice.Status.SENT, Decimal("100.00")
    invoice.save()
    assert _kept(customer).outstanding_invoices == Decimal("100.00")


def test_moving_a_payment_to_another_customer_refreshes_both_accounts():
    first, second = CustomerFactory(), CustomerFactory()
    payment = record_payment(customer=first, amount=Decimal("12.00"), paid_on=TODAY, method=Payment.Method.CASH)

    payment = Payment.objects.get(pk=payment.pk)
    payment.customer = second
    payment.save()

    assert (_kept(first).available_credits, _kept(second).available_credits) == (Decimal("0.00"), Decimal("12.00"))


def test_a_due_date_in_the_past_does_not_matter_to_the_kept_rows():
    customer = CustomerFactory()
    invoice = _sent_invoice(customer, "10.00")
    Invoice.objects.filter(pk=invoice.pk).update(
        issued_on=TODAY - datetime.timedelta(days=60), due_on=TODAY - datetime.timedelta(days=30)
    )
    assert _kept(customer).outstanding_invoices == Decimal("10.00")
