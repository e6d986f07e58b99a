"""Recompute every denormalised ledger figure from the rows it derives from and list what disagrees.

Used by `manage.py check_ledger` and by the ledger tests after each example. A fixed number of
queries (grouped sums), then the comparison in Python; it reads the whole ledger, so it is a
back-office check, not something a page calls.
"""

from collections import defaultdict

from django.db.models import F, Q, Sum

from billing.models import (
    Allocation,
    AllocationReversal,
    CreditApplication,
    CreditNote,
    Customer,
    Dispute,
    Invoice,
    InvoiceLine,
    Payment,
    Refund,
    RetainerApplication,
)
from billing.money import ZERO

from .accounts import KEPT_FIGURES, AccountFigures, account_figures, kept_figures, kept_months
from .statements.kinds import TRANSFERS
from .statements.months import statement_months


def _sums(queryset, key: str, amount: str = "amount") -> dict:
    totals = queryset.order_by().values(key).annotate(s=Sum(amount)).values_list(key, "s")
    return defaultdict(lambda: ZERO, {k: v for k, v in totals})


def _opens_to(customers: dict[int, tuple[int | None, bool]], payer: int, receiver: int) -> bool:
    """True if `receiver` is `payer` or below it with every link allowing parent access."""
    seen = set()
    node = receiver
    while node != payer:
        if node in seen or node not in customers:
            return False
        seen.add(node)
        parent, allows = customers[node]
        if parent is None or not allows:
            return False
        node = parent
    return True


def ledger_problems() -> list[str]:
    """Every mismatch or broken invariant, as readable lines (empty: the ledger is consistent)."""
    problems: list[str] = []
    allocated = _sums(Allocation.objects.all(), "invoice_id")
    reversed_on_invoice = _sums(AllocationReversal.objects.all(), "allocation__invoice_id")
    credited = _sums(CreditApplication.objects.all(), "invoice_id")
    retainer_in = _sums(RetainerApplication.objects.all(), "invoice_id")
    retainer_out = _sums(RetainerApplication.objects.all(), "retainer_id")
    retainer_refunded = _sums(Refund.objects.counted().filter(retainer__isnull=False), "retainer_id")
    line_amounts = _sums(InvoiceLine.objects.all(), "invoice_id")
    line_taxes = _sums(InvoiceLine.objects.all(), "invoice_id", "tax_amount")
    with_lines = set(InvoiceLine.objects.values_list("invoice_id", flat=True).distinct())

    for inv in Invoice.objects.values(
        "pk",
        "number",
        "status",
        "is_retainer",
        "subtotal",
        "tax_total",
        "total",
        "balance_due",
        "retainer_unused",
    ):
        pk, number = inv["pk"], inv["number"]
        applied = allocated[pk] - reversed_on_invoice[pk] + credited[pk] + retainer_in[pk]
        if inv["status"] == Invoice.Status.VOID:
            expected = ZERO
            if applied:
                problems.append(f"Invoice {number} is void but has {applied} applied")
        else:
            expected = inv["total"] - applied
        if inv["balance_due"] != expected:
            problems.append(f"Invoice {number}: balance_due {inv['balance_due']}, recomputed {expected}")
        if expected < 0:
            problems.append(f"Invoice {number}: applied {applied} is more than its total {inv['total']}")
        if inv["status"] == Invoice.Status.DRAFT and applied:
            problems.append(f"Invoice {number} is a draft but has {applied} applied")
        if inv["status"] not in (Invoice.Status.DRAFT, Invoice.Status.VOID) and inv["total"] > 0:
            status = (
                Invoice.Status.PAID
                if expected == 0
                else Invoice.Status.SENT
                if expected == inv["total"]
                else Invoice.Status.PARTIALLY_PAID
            )
            if inv["status"] != status:
                problems.append(f"Invoice {number}: status {inv['status']}, balance says {status}")
        if inv["is_retainer"]:
            unused = allocated[pk] - reversed_on_invoice[pk] - retainer_out[pk] - retainer_refunded[pk]
        else:
            unused = ZERO
        if inv["retainer_unused"] != unused:
            problems.append(
                f"Invoice {number}: retainer_unused {inv['retainer_unused']}, recomputed {unused}"
            )
        if unused < 0:
            problems.append(f"Retainer {number}: more applied or refunded than was paid")
        if pk in with_lines and (inv["subtotal"] != line_amounts[pk] or inv["tax_total"] != line_taxes[pk]):
            problems.append(
                f"Invoice {number}: subtotal/tax {inv['subtotal']}/{inv['tax_total']}, "
                f"lines add up to {line_amounts[pk]}/{line_taxes[pk]}"
            )
        if inv["total"] != inv["subtotal"] + inv["tax_total"]:
            problems.append(f"Invoice {number}: total {inv['total']} is not subtotal + tax")

    paid_out = _sums(Allocation.objects.all(), "payment_id")
    reversed_to_payment = _sums(AllocationReversal.objects.all(), "allocation__payment_id")
    payment_refunds = _sums(Refund.objects.counted().filter(payment__isnull=False), "payment_id")
    for pay in Payment.objects.values(
        "pk", "number", "status", "amount", "unallocated", "refunded_amount", "currency", "customer__currency"
    ):
        pk, number = pay["pk"], pay["number"]
        expected = pay["amount"] - paid_out[pk] + reversed_to_payment[pk] - payment_refunds[pk]
        if pay["unallocated"] != expected:
            problems.append(f"Payment {number}: unallocated {pay['unallocated']}, recomputed {expected}")
        if expected < 0:
            problems.append(f"Payment {number}: allocations and refunds exceed the payment {pay['amount']}")
        if pay["refunded_amount"] != payment_refunds[pk]:
            problems.append(
                f"Payment {number}: refunded {pay['refunded_amount']}, refunds add up to "
                f"{payment_refunds[pk]}"
            )
        if pay["status"] not in (Payment.Status.SUCCEEDED, Payment.Status.REFUNDED) and paid_out[pk]:
            problems.append(f"Payment {number} is {pay['status']} but has allocations")
        if (pay["status"] == Payment.Status.REFUNDED) != (pay["refunded_amount"] == pay["amount"]):
            problems.append(
                f"Payment {number}: status {pay['status']} with {pay['refunded_amount']} refunded"
            )
        if pay["currency"] != pay["customer__currency"]:
            problems.append(
                f"Payment {number} is in {pay['currency']}, its payer bills in {pay['customer__currency']}"
            )

    note_applied = _sums(CreditApplication.objects.all(), "credit_note_id")
    note_refunds = _sums(Refund.objects.counted().filter(credit_note__isnull=False), "credit_note_id")
    for note in CreditNote.objects.values("pk", "number", "status", "total", "balance"):
        pk, number = note["pk"], note["number"]
        expected = note["total"] - note_applied[pk] - note_refunds[pk]
        if note["status"] == CreditNote.Status.VOID:
            # void_credit_note only voids unused notes and zeroes their balance.
            if expected != note["total"]:
                problems.append(f"Credit note {number} is void but {note['total'] - expected} was used")
            expected = 0
        if note["balance"] != expected:
            problems.append(f"Credit note {number}: balance {note['balance']}, recomputed {expected}")
        if expected < 0:
            problems.append(f"Credit note {number}: applied and refunded more than its total {note['total']}")
        if note["status"] != CreditNote.Status.VOID and (note["status"] == CreditNote.Status.CLOSED) != (
            expected == 0
        ):
            problems.append(f"Credit note {number}: status {note['status']} with balance {expected}")

    tree = {
        pk: (parent, allows)
        for pk, parent, allows in Customer.objects.values_list("pk", "parent_id", "allow_parent_access")
    }
    # Every kind of transfer of the statement's catalogue: money applied across currencies or to an invoice of
    # a customer not open to the payer (a reversal repeats its allocation's documents).
    movements = (
        (kind.what, kind.model.objects.values_list(*(f"{doc}__{name}" for doc in (kind.source, kind.invoice)
                                                     for name in ("number", "customer_id", "currency"))))
        for kind in TRANSFERS
    )
    for what, rows in movements:
        for src_no, payer, src_cur, inv_no, receiver, inv_cur in rows.distinct():
            if src_cur != inv_cur:
                problems.append(f"{what} {src_no} ({src_cur}) was applied to {inv_no} ({inv_cur})")
            if not _opens_to(tree, payer, receiver):
                problems.append(
                    f"{what} {src_no} was applied to {inv_no} of a customer not open to its payer"
                )
    problems.extend(_stored_customer_problems())
    problems.extend(_account_balance_problems(tree))
    problems.extend(_dispute_problems())
    return problems


def _dispute_problems() -> list[str]:
    """A dispute holds money exactly while its status says the gateway holds it, and a payment is
    flagged disputed exactly while one of its disputes holds: two queries."""
    problems = []
    for gateway_id, status, hold_status in Dispute.objects.values_list(
        "gateway_dispute_id", "status", "hold__status"
    ).order_by("pk"):
        holding = hold_status in Refund.COUNTED
        if holding and status not in Dispute.HOLDING:
            problems.append(f"Dispute {gateway_id} is {status} but still holds its amount")
        if hold_status is not None and not holding and status in Dispute.HOLDING:
            problems.append(f"Dispute {gateway_id} is {status} but its hold was given back")
    held = set(Dispute.objects.filter(status__in=Dispute.HOLDING).values_list("payment_id", flat=True))
    flagged = set(Payment.objects.filter(disputed=True).values_list("pk", flat=True))
    for pk in sorted(held ^ flagged):
        problems.append(f"Payment {pk}: disputed flag is {pk in flagged}, its disputes say {pk in held}")
    return problems


def _stored_customer_problems() -> list[str]:
    """Every application or reversal whose kept `payer_customer` / `invoice_customer` are not its documents'
    customers (the statement reads transfers from these columns alone): one query per kind of transfer."""
    problems = []
    for kind in TRANSFERS:
        payer, receiver = f"{kind.source}__customer_id", f"{kind.invoice}__customer_id"
        kept_payer, kept_receiver = f"{kind.payer}_id", f"{kind.receiver}_id"
        drifted = kind.model.objects.filter(
            ~Q(**{kept_payer: F(payer)}) | ~Q(**{kept_receiver: F(receiver)})
        ).values_list("pk", f"{kind.source}__number", f"{kind.invoice}__number", kept_payer, kept_receiver, payer,
                      receiver)
        for pk, src_no, inv_no, kept_from, kept_to, real_from, real_to in drifted.order_by("pk"):
            problems.append(
                f"{kind.what} {src_no} applied to {inv_no} (row {pk}): kept customers {kept_from} → {kept_to}, "
                f"its documents' {real_from} → {real_to}"
            )
    return problems


def _account_balance_problems(customer_ids) -> list[str]:
    """Every `AccountBalance` row (a missing one counts as zeros) and every `StatementMonth` row against the
    figures recomputed from the documents, for every customer."""
    kept = kept_figures()
    months = statement_months(customer_ids=customer_ids)
    problems = []
    for pk, expected in account_figures(customer_ids=customer_ids, months=months).items():
        row = kept.get(pk, AccountFigures())
        for name in KEPT_FIGURES:
            if getattr(row, name) != getattr(expected, name):
                problems.append(
                    f"Account balance of customer {pk}: {name} {getattr(row, name)}, "
                    f"recomputed {getattr(expected, name)}"
                )
    kept_by_month = kept_months()
    for key in sorted(set(months) | set(kept_by_month)):
        if kept_by_month.get(key) != months.get(key):
            cid, month, kind = key
            problems.append(
                f"Statement month {month:%Y-%m} of customer {cid}, {kind}: kept (amount, lines) "
                f"{kept_by_month.get(key)}, recomputed {months.get(key)}"
            )
    return problems


def ledger_is_consistent() -> bool:
    return not ledger_problems()
