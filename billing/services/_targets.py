"""The payer rule, shared by every service that puts money on invoices.

Money of a payer (payment, credit note, retainer) may go to its own invoices or to those of a
descendant whose every link up to it allows parent access, in the same currency, never to a
draft or void invoice, never beyond the balance, in amounts above zero and in whole minor units.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from billing.models import Customer, Invoice
from billing.money import ZERO, is_whole_minor_units
from billing.selectors.customers import customers_under


def check_amount(amount, currency: str, *, what: str = "") -> Decimal:
    """An amount above zero in whole minor units, else ValidationError(code="bad_amount")."""
    if (
        not isinstance(amount, Decimal)
        or not amount.is_finite()
        or amount <= 0
        or not is_whole_minor_units(amount, currency)
    ):
        raise ValidationError(
            _("Enter an amount above zero in whole %(cur)s units%(what)s; %(amount)s is not one."),
            code="bad_amount",
            params={"cur": currency, "amount": amount, "what": f" ({what})" if what else ""},
        )
    return amount


def check_applications(applications: Mapping[int, Decimal], currency: str) -> Decimal:
    """Validate the shape of {invoice id: amount} before any row is read; return the sum."""
    if not applications:
        raise ValidationError(_("Choose at least one invoice and an amount."), code="nothing_to_apply")
    for amount in applications.values():
        check_amount(amount, currency)
    return sum(applications.values(), ZERO)


def lock_invoices(ids: Iterable[int]) -> dict[int, Invoice]:
    """Lock these invoices in id order (the one lock order every service uses) and return them by id."""
    rows = (
        Invoice.objects.filter(pk__in=list(ids))
        .select_related("customer")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    return {invoice.pk: invoice for invoice in rows}


def check_targets(
    *,
    payer: Customer,
    currency: str,
    applications: Mapping[int, Decimal],
    invoices: Mapping[int, Invoice],
    regular_only: bool,
) -> None:
    """Apply the payer rule to locked invoices; raise ValidationError on the first broken rule."""
    if any(pk not in invoices for pk in applications):
        # Same answer for "no such invoice" and "not yours": never confirm an id exists.
        raise ValidationError(
            _("One of these invoices can't be paid from %(payer)s's account."),
            code="not_payable",
            params={"payer": payer.display_name},
        )
    allowed = set(customers_under(customer_id=payer.pk).values_list("pk", flat=True))
    for pk, amount in applications.items():
        invoice = invoices[pk]
        if invoice.customer_id not in allowed:
            raise ValidationError(
                _(
                    "Invoice %(inv)s belongs to %(owner)s, whose transactions are not open to %(payer)s; "
                    "its money can't pay it."
                ),
                code="not_payable",
                params={
                    "inv": invoice.number,
                    "owner": invoice.customer.display_name,
                    "payer": payer.display_name,
                },
            )
        if invoice.currency != currency:
            raise ValidationError(
                _("Invoice %(inv)s is in %(inv_cur)s and this money is in %(cur)s; they can't be mixed."),
                code="currency_mismatch",
                params={"inv": invoice.number, "inv_cur": invoice.currency, "cur": currency},
            )
        if invoice.status in (Invoice.Status.VOID, Invoice.Status.DRAFT):
            raise ValidationError(
                _("Invoice %(inv)s is %(status)s and can't be paid."),
                code="invoice_not_open",
                params={"inv": invoice.number, "status": invoice.get_status_display().lower()},
            )
        if regular_only and invoice.is_retainer:
            raise ValidationError(
                _("%(inv)s is a retainer invoice; credits and retainers only go to regular invoices."),
                code="retainer_invoice",
                params={"inv": invoice.number},
            )
        if amount > invoice.balance_due:
            raise ValidationError(
                _("Invoice %(inv)s has only %(due)s %(cur)s left to pay; %(asked)s was requested."),
                code="exceeds_invoice",
                params={"inv": invoice.number, "due": invoice.balance_due, "cur": currency, "asked": amount},
            )


def write_applications(model, *, source_field: str, source, invoices: Mapping[int, Invoice],
                       applications: Mapping[int, Decimal], applied_on: date | None = None) -> list:
    """The rows putting `source`'s money (a payment, credit note or retainer, named by `source_field` on
    `model`) on these invoices, in invoice-id order, each with both customers stored: the payer's and the
    invoice's (what the statement reads for transfers and `check_ledger` checks)."""
    extra = {"applied_on": applied_on} if applied_on else {}
    return model.objects.bulk_create(
        model(
            **{source_field: source},
            invoice=invoices[pk],
            amount=amount,
            payer_customer_id=source.customer_id,
            invoice_customer_id=invoices[pk].customer_id,
            **extra,
        )
        for pk, amount in sorted(applications.items())
    )
