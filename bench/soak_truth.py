"""What every portal page of the soak must show, recomputed from the tables alone (bench/soak.py).

Deliberately independent of the product's selectors and kept figures: it reads the raw rows with
plain SQL (documents, their lines, applications, reversals, refunds, the customer tree) and
derives every figure here, from the definitions in DESIGN.md and billing/selectors/statements.py's
docstring, not from their code:

- an invoice's total is the sum of its lines (amount + tax); its balance is the total less payments
  applied, plus reversals of those, less credit notes and retainers applied (void: zero);
- a payment's excess is its amount less what it paid, plus reversals, less its refunds; a credit
  note's balance is its total less applications and refunds; a retainer's unused part is what was
  paid on it, less reversals, less what it was applied to, less its refunds;
- a contact sees its customer and every descendant whose every link up to it allows parent access
  (walked here over `parent_id` / `allow_parent_access`);
- the statement: invoices (not draft/void, not retainers) and refunds are debits, credit notes (not
  void) and payments (succeeded or refunded) are credits, money of one customer applied to another's
  invoice is a debit for the giver and a credit for the taker (a reversal sends it back), and two
  customers of the same statement cancel in its consolidated list.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0.00")
OPEN_STATUSES = ("sent", "partially_paid")
STATUS_LABELS = {"draft": "Draft", "sent": "Sent", "partially_paid": "Partially paid", "paid": "Paid",
                 "void": "Void"}
PAYMENT_STATUS = {"pending": "Pending", "succeeded": "Succeeded", "failed": "Failed", "refunded": "Refunded"}
METHODS = {"cash": "Cash", "cheque": "Cheque", "bank_transfer": "Bank transfer", "card": "Card",
           "ach": "ACH bank debit"}
KIND_LABELS = {"invoice": "Invoice", "credit_note": "Credit note", "payment": "Payment received",
               "transfer_in": "Applied from another account", "transfer_out": "Applied to another account",
               "refund": "Refund"}
KIND_ORDER = ("invoice", "credit_note", "payment", "transfer_in", "transfer_out", "refund")


def _sum(rows, key, amount) -> dict:
    out = defaultdict(lambda: ZERO)
    for r in rows:
        out[r[key]] += r[amount]
    return out


def _fetch(cursor, sql, params=()) -> list[dict]:
    cursor.execute(sql, params)
    names = [c.name for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass
class Ledger:
    """Every row the figures come from, read in one transaction, and what follows from them."""

    customers: dict[int, dict]
    contacts: list[dict]
    invoices: dict[int, dict]
    payments: dict[int, dict]
    notes: dict[int, dict]
    allocations: list[dict]
    reversals: list[dict]
    credit_apps: list[dict]
    retainer_apps: list[dict]
    refunds: list[dict]
    processing_invoices: set[int]
    attempts: dict[str, dict] = field(default_factory=dict)
    kept: dict[int, dict] = field(default_factory=dict)

    # -- documents -------------------------------------------------------------------------------
    def derive(self) -> Ledger:
        alloc_inv = _sum(self.allocations, "invoice_id", "amount")
        alloc_pay = _sum(self.allocations, "payment_id", "amount")
        allocation = {a["id"]: a for a in self.allocations}
        rev_inv, rev_pay = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
        for r in self.reversals:
            a = allocation[r["allocation_id"]]
            rev_inv[a["invoice_id"]] += r["amount"]
            rev_pay[a["payment_id"]] += r["amount"]
        cred_inv = _sum(self.credit_apps, "invoice_id", "amount")
        cred_note = _sum(self.credit_apps, "credit_note_id", "amount")
        ret_in = _sum(self.retainer_apps, "invoice_id", "amount")
        ret_out = _sum(self.retainer_apps, "retainer_id", "amount")
        ref_pay = _sum([r for r in self.refunds if r["payment_id"]], "payment_id", "amount")
        ref_note = _sum([r for r in self.refunds if r["credit_note_id"]], "credit_note_id", "amount")
        ref_ret = _sum([r for r in self.refunds if r["retainer_id"]], "retainer_id", "amount")
        for pk, inv in self.invoices.items():
            applied = alloc_inv[pk] - rev_inv[pk] + cred_inv[pk] + ret_in[pk]
            inv["balance"] = ZERO if inv["status"] == "void" else inv["total"] - applied
            inv["open"] = inv["status"] in OPEN_STATUSES and inv["balance"] > 0
            inv["unused"] = (alloc_inv[pk] - rev_inv[pk] - ret_out[pk] - ref_ret[pk]) if inv["is_retainer"] else ZERO
        for pk, pay in self.payments.items():
            pay["excess"] = pay["amount"] - alloc_pay[pk] + rev_pay[pk] - ref_pay[pk]
        for pk, note in self.notes.items():
            note["left"] = ZERO if note["status"] == "void" else note["total"] - cred_note[pk] - ref_note[pk]
        return self

    # -- visibility ------------------------------------------------------------------------------
    def visible(self, customer_id: int) -> set[int]:
        children = defaultdict(list)
        for pk, c in self.customers.items():
            if c["parent_id"] is not None and c["allow_parent_access"]:
                children[c["parent_id"]].append(pk)
        seen, todo = {customer_id}, [customer_id]
        while todo:
            for child in children[todo.pop()]:
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    # -- home ------------------------------------------------------------------------------------
    def account(self, pk: int) -> dict:
        c = self.customers[pk]
        out = sum((i["balance"] for i in self.invoices.values()
                   if i["customer_id"] == pk and i["open"] and not i["is_retainer"]), ZERO)
        retainers = sum((i["balance"] for i in self.invoices.values()
                         if i["customer_id"] == pk and i["open"] and i["is_retainer"]), ZERO)
        unused = sum((i["unused"] for i in self.invoices.values()
                      if i["customer_id"] == pk and i["is_retainer"] and i["unused"] > 0), ZERO)
        credits = sum((p["excess"] for p in self.payments.values()
                       if p["customer_id"] == pk and p["status"] == "succeeded" and p["excess"] > 0), ZERO)
        credits += sum((n["left"] for n in self.notes.values()
                        if n["customer_id"] == pk and n["status"] == "open" and n["left"] > 0), ZERO)
        return {"name": c["display_name"], "outstanding": out, "credits": credits, "retainers_due": retainers,
                "retainers_paid": unused, "net": out - credits - unused}

    def home(self, customer_id: int) -> dict:
        ids = self.visible(customer_id)
        accounts = sorted((self.account(pk) | {"id": pk} for pk in ids), key=lambda a: (a["name"], a["id"]))
        total = {k: sum((a[k] for a in accounts), ZERO)
                 for k in ("outstanding", "credits", "retainers_due", "retainers_paid", "net")}
        total["payable"] = self.payable(customer_id, {a["id"]: a for a in accounts})
        return {"accounts": accounts, "total": total}

    def payable(self, top: int, accounts: dict[int, dict]) -> Decimal:
        """Balance payable under the payer rule: an account's credits, then its retainer payments, pay only
        what is still owed in its own subtree (itself and the branches open to it), deepest accounts first."""
        children = defaultdict(list)
        for pk in accounts:
            parent = self.customers[pk]["parent_id"]
            if pk != top and parent in accounts:
                children[parent].append(pk)

        def left_owed(pk: int) -> Decimal:  # what the subtree still owes once its own money has paid
            owed = accounts[pk]["outstanding"] + sum((left_owed(child) for child in children[pk]), ZERO)
            for money in (accounts[pk]["credits"], accounts[pk]["retainers_paid"]):
                owed -= min(money, owed)
            return owed

        return left_owed(top)

    def kept_problems(self) -> list[tuple[int, str, Decimal, Decimal]]:
        """Each kept account figure (billing_accountbalance, read in the same snapshot) that differs from the
        recomputation: (customer, figure, kept, recomputed). A missing row counts as zeros."""
        statement = defaultdict(lambda: ZERO)
        for m in self.movements():
            statement[m["customer_id"]] += m["debit"] - m["credit"]
        out = []
        for pk in self.customers:
            want = self.account(pk)
            row = self.kept.get(pk, {})
            for figure, value in (("outstanding_invoices", want["outstanding"]), ("available_credits", want["credits"]),
                                  ("outstanding_retainers", want["retainers_due"]),
                                  ("available_retainer_payments", want["retainers_paid"]),
                                  ("statement_balance", statement[pk])):
                if row.get(figure, ZERO) != value:
                    out.append((pk, figure, row.get(figure, ZERO), value))
        return out

    # -- lists -----------------------------------------------------------------------------------
    def invoice_rows(self, customer_id: int, today: dt.date) -> dict[str, dict]:
        ids = self.visible(customer_id)
        rows = {}
        for pk, i in self.invoices.items():
            if i["customer_id"] not in ids or i["is_retainer"] or i["status"] == "draft":
                continue
            if pk in self.processing_invoices:
                status = "Payment processing"
            elif i["open"] and i["due_on"] < today:
                status = "Overdue"
            else:
                status = STATUS_LABELS[i["status"]]
            rows[i["number"]] = {"account": self.customers[i["customer_id"]]["display_name"],
                                 "issued_on": i["issued_on"], "due_on": i["due_on"], "status": status,
                                 "total": i["total"], "balance": i["balance"]}
        return rows

    def payment_rows(self, customer_id: int) -> dict[str, dict]:
        ids = self.visible(customer_id)
        return {p["number"]: {"account": self.customers[p["customer_id"]]["display_name"], "paid_on": p["paid_on"],
                              "method": METHODS[p["method"]], "status": PAYMENT_STATUS[p["status"]],
                              "amount": p["amount"]}
                for p in self.payments.values() if p["customer_id"] in ids and p["status"] != "failed"}

    # -- statement -------------------------------------------------------------------------------
    def movements(self) -> list[dict]:
        """Every statement movement ever: (date, kind, number, customer, debit, credit, transfer pair)."""
        moves = []

        def add(on, kind, number, cid, debit=ZERO, credit=ZERO, pair=None):
            moves.append({"date": on, "kind": kind, "number": number, "customer_id": cid, "debit": debit,
                          "credit": credit, "pair": pair})

        for i in self.invoices.values():
            if not i["is_retainer"] and i["status"] not in ("draft", "void"):
                add(i["issued_on"], "invoice", i["number"], i["customer_id"], debit=i["total"])
        for n in self.notes.values():
            if n["status"] != "void":
                add(n["issued_on"], "credit_note", n["number"], n["customer_id"], credit=n["total"])
        for p in self.payments.values():
            if p["status"] in ("succeeded", "refunded"):
                add(p["paid_on"], "payment", p["number"], p["customer_id"], credit=p["amount"])
        for r in self.refunds:
            source = (self.payments[r["payment_id"]]["number"] if r["payment_id"] else
                      self.notes[r["credit_note_id"]]["number"] if r["credit_note_id"] else
                      self.invoices[r["retainer_id"]]["number"])
            add(r["refunded_on"], "refund", source, r["customer_id"], debit=r["amount"])

        def transfer(on, number, giver, taker, amount):
            if giver != taker:
                add(on, "transfer_out", number, giver, debit=amount, pair=taker)
                add(on, "transfer_in", number, taker, credit=amount, pair=giver)

        allocation = {a["id"]: a for a in self.allocations}
        for a in self.allocations:
            pay = self.payments[a["payment_id"]]
            transfer(a["applied_on"], pay["number"], pay["customer_id"],
                     self.invoices[a["invoice_id"]]["customer_id"], a["amount"])
        for c in self.credit_apps:
            note = self.notes[c["credit_note_id"]]
            transfer(c["applied_on"], note["number"], note["customer_id"],
                     self.invoices[c["invoice_id"]]["customer_id"], c["amount"])
        for r in self.retainer_apps:
            ret = self.invoices[r["retainer_id"]]
            transfer(r["applied_on"], ret["number"], ret["customer_id"],
                     self.invoices[r["invoice_id"]]["customer_id"], r["amount"])
        for r in self.reversals:
            a = allocation[r["allocation_id"]]
            pay = self.payments[a["payment_id"]]
            transfer(r["reversed_on"], pay["number"], self.invoices[a["invoice_id"]]["customer_id"],
                     pay["customer_id"], r["amount"])
        return moves

    def statement(self, customer_id: int, start: dt.date, end: dt.date) -> dict:
        ids = self.visible(customer_id)
        moves = [m for m in self.movements() if m["customer_id"] in ids]
        accounts = {}
        for pk in ids:
            own = [m for m in moves if m["customer_id"] == pk]
            opening = sum((m["debit"] - m["credit"] for m in own if m["date"] < start), ZERO)
            period = [m for m in own if start <= m["date"] <= end]
            debits = sum((m["debit"] for m in period), ZERO)
            credits = sum((m["credit"] for m in period), ZERO)
            # each kind of movement in a column of its own (the per-account table)
            by_kind = {kind: sum((m["debit"] + m["credit"] for m in period if m["kind"] == kind), ZERO)
                       for kind in KIND_ORDER}
            accounts[pk] = {"name": self.customers[pk]["display_name"], "opening": opening, "debits": debits,
                            "credits": credits, "closing": opening + debits - credits, "by_kind": by_kind}
        consolidated = len(ids) > 1
        lines = [m for m in moves if start <= m["date"] <= end and not (consolidated and m["pair"] in ids)]
        opening = sum((a["opening"] for a in accounts.values()), ZERO)
        debits = sum((m["debit"] for m in lines), ZERO)
        credits = sum((m["credit"] for m in lines), ZERO)
        return {
            "consolidated": consolidated,
            "opening": opening,
            "debits": debits,
            "credits": credits,
            "closing": opening + debits - credits,
            "lines": [{"date": m["date"], "label": f"{KIND_LABELS[m['kind']]} {m['number']}", "kind": m["kind"],
                       "account": self.customers[m["customer_id"]]["display_name"], "debit": m["debit"],
                       "credit": m["credit"]} for m in lines],
            "accounts": sorted(accounts.values(), key=lambda a: a["name"]),
        }


def load(connection) -> Ledger:
    """Read every table the figures derive from, in one REPEATABLE READ transaction (one snapshot)."""
    with connection.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            customers = {r["id"]: r for r in _fetch(
                cursor, "SELECT id, display_name, parent_id, allow_parent_access, currency FROM billing_customer")}
            contacts = _fetch(cursor, """
                SELECT c.id, c.customer_id, c.email, c.portal_enabled FROM billing_contactperson c
                WHERE c.user_id IS NOT NULL ORDER BY c.id""")
            invoices = {r["id"]: r for r in _fetch(cursor, """
                SELECT i.id, i.number, i.customer_id, i.is_retainer, i.status, i.issued_on, i.due_on,
                       i.total AS stored_total, i.balance_due AS stored_balance,
                       (SELECT SUM(l.amount + l.tax_amount) FROM billing_invoiceline l WHERE l.invoice_id = i.id)
                           AS total
                FROM billing_invoice i""")}
            for inv in invoices.values():
                if inv["total"] is None:  # no lines at all: nothing to add up (the soak's invoices all have lines)
                    inv["total"] = inv["stored_total"]
            payments = {r["id"]: r for r in _fetch(cursor, """
                SELECT id, number, customer_id, amount, status, paid_on, method, reference, gateway_payment_id
                FROM billing_payment""")}
            notes = {r["id"]: r for r in _fetch(cursor, """
                SELECT n.id, n.number, n.customer_id, n.status, n.issued_on,
                       (SELECT SUM(l.amount + l.tax_amount) FROM billing_creditnoteline l WHERE l.credit_note_id = n.id)
                           AS total, n.total AS stored_total
                FROM billing_creditnote n""")}
            for note in notes.values():
                if note["total"] is None:
                    note["total"] = note["stored_total"]
            allocations = _fetch(cursor,
                                 "SELECT id, payment_id, invoice_id, amount, applied_on FROM billing_allocation")
            reversals = _fetch(cursor, "SELECT id, allocation_id, amount, reversed_on FROM billing_allocationreversal")
            credit_apps = _fetch(cursor,
                                 "SELECT credit_note_id, invoice_id, amount, applied_on FROM billing_creditapplication")
            retainer_apps = _fetch(
                cursor, "SELECT retainer_id, invoice_id, amount, applied_on FROM billing_retainerapplication")
            refunds = _fetch(cursor, """
                SELECT id, customer_id, payment_id, credit_note_id, retainer_id, amount, refunded_on
                FROM billing_refund""")
            processing = {r["invoice_id"] for r in _fetch(cursor, """
                SELECT l.invoice_id FROM billing_checkoutline l JOIN billing_checkoutattempt a ON a.id = l.attempt_id
                WHERE a.status = 'processing'""")}
            attempts = {str(r["token"]): r for r in _fetch(cursor, """
                SELECT a.token, a.status, a.method, a.amount, a.gateway_intent_id, a.payment_id
                FROM billing_checkoutattempt a""")}
            kept = {r["customer_id"]: r for r in _fetch(cursor, """
                SELECT customer_id, outstanding_invoices, available_credits, outstanding_retainers,
                       available_retainer_payments, statement_balance FROM billing_accountbalance""")}
        finally:
            cursor.execute("COMMIT")
    return Ledger(customers, contacts, invoices, payments, notes, allocations, reversals, credit_apps,
                  retainer_apps, refunds, processing, attempts, kept).derive()
