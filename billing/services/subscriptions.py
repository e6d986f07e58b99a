"""Subscriptions: invoices for each billing period, generated once."""

import calendar
import logging
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils.dateformat import format as date_format

from billing.models import Invoice, Subscription

from .account_totals import ledger_action
from .invoices import LineInput, create_invoice, send_invoices

logger = logging.getLogger(__name__)

_MONTHS = {Subscription.Period.MONTHLY: 1, Subscription.Period.QUARTERLY: 3, Subscription.Period.YEARLY: 12}
BILLING_STATUSES = (Subscription.Status.LIVE, Subscription.Status.NON_RENEWING)


def next_period_start(subscription: Subscription, current: date) -> date:
    """The period start after `current`, keeping the start date's day (31 Jan → 28/29 Feb → 31 Mar)."""
    months = current.year * 12 + current.month - 1 + _MONTHS[subscription.billing_period]
    year, month = divmod(months, 12)
    day = min(subscription.starts_on.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


@ledger_action()
def bill_subscription(*, subscription: Subscription, today: date) -> list[Invoice]:
    """Invoice (and send) every period of one subscription that has started by `today`.

    Safe to repeat: the subscription row is locked and its next billing date moves with each
    invoice, and the unique constraint one_invoice_per_subscription_period is the backstop; a
    period already invoiced is skipped. Non-renewing subscriptions stop after `ends_on`.
    A price or discount left empty is the customer's effective one; a typed one (even 0) wins.
    """
    sub = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("customer", "item")
        .get(pk=subscription.pk)
    )
    created = []
    while (
        sub.status in BILLING_STATUSES
        and sub.next_billing_on <= today
        and (sub.ends_on is None or sub.next_billing_on <= sub.ends_on)
    ):
        start = sub.next_billing_on
        if not Invoice.objects.filter(subscription=sub, billing_period_start=start).exists():
            last_day = next_period_start(sub, start) - timedelta(days=1)
            line = LineInput(
                item=sub.item,
                description=f"{sub.plan_name}, {date_format(start, 'j M Y')} – {date_format(last_day, 'j M Y')}",
                quantity=sub.quantity,
                # Empty price / discount: the customer's effective ones on the day the period is billed.
                rate=sub.price,
                discount_percent=sub.discount_percent,
            )
            created.append(
                create_invoice(
                    customer=sub.customer,
                    lines=[line],
                    issued_on=start,
                    subscription=sub,
                    billing_period_start=start,
                )
            )
        sub.next_billing_on = next_period_start(sub, start)
    if sub.ends_on is not None and sub.next_billing_on > sub.ends_on and sub.status in BILLING_STATUSES:
        sub.status = Subscription.Status.CANCELLED  # its last period is billed
    sub.save(update_fields=["next_billing_on", "status"])
    return send_invoices(invoices=created) if created else []


def generate_due_subscription_invoices(*, today: date) -> list[Invoice]:
    """Bill every live or non-renewing subscription due by `today`; safe to run twice.

    Each subscription is its own transaction (`bill_subscription`), so one that can't be priced
    is logged and the others are still billed.
    """
    created: list[Invoice] = []
    due = (
        Subscription.objects.filter(status__in=BILLING_STATUSES, next_billing_on__lte=today)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in due:
        try:
            created += bill_subscription(subscription=Subscription(pk=pk), today=today)
        except ValidationError as exc:
            logger.error("Subscription %s was not billed: %s", pk, " ".join(exc.messages))
    return created
