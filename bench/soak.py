"""A soak that proves it (issue 15): real servers, real clients, a crash and a restart, then every figure checked.

    .venv/bin/python bench/soak.py                  # 180 s (about 5 minutes with set-up and checks)
    .venv/bin/python bench/soak.py --seconds 40     # a short run while developing

What runs, all on 127.0.0.1:
- PostgreSQL database `--db` (default `soak`, dropped and re-created), Redis database `--redis`
  (default redis://127.0.0.1:6379/9, flushed), the sandbox payment gateway;
- gunicorn with 2 workers (bench.settings_soak) and a Celery worker on that Redis;
- a hierarchy with private branches (allow_parent_access off, with their own contacts and a branch of
  their own), invoices, payments, a credit note and a retainer, all written by the services;
- 8 reader clients, each logged in as a different contact: home, invoices, payments, statement and now
  and then the statement PDF, following every page of each list;
- 4 payer clients paying random open invoices through Pay Now like a browser (GET the page, POST the
  form with its CSRF token): card success and decline, ACH that settles or fails; half of their ACH
  payments they settle with the sandbox page's button, the other half the "bank" settles;
- 1 bookkeeper process (django.setup()): new invoices, offline payments (record_payment,
  allocate_payment), credit notes (create_credit_note, apply_credit_note), refunds (refund_payment,
  refund_online_payment, refund_credit_note); and the bank: it settles or returns ACH debits at the
  gateway and delivers the gateway's events as signed webhooks over HTTP, which the Celery worker applies;
- at 35% of the run the Celery worker is killed with SIGKILL (its whole process group) and started again
  5 s later; at 60% the gunicorn master is stopped (SIGTERM) and a new one started.

Then, after waiting (bounded) for the worker to apply every queued event: `check_ledger`'s
ledger_problems(), and every figure of every contact's home, invoice list, payment list and statement
(HTML, and the statement PDF through pdftotext) against bench/soak_truth.py, which recomputes them from
the tables without the product's selectors; money taken at the gateway against payments in the ledger
(none lost, none twice); every ACH payment settled, failed, or visibly processing. During the load, every 10 s,
the kept account figures (AccountBalance) against the same recomputation in one database snapshot.
Exit status 1 on any mismatch. A markdown summary is printed at the end (for bench/README.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD = "correct horse battery staple"  # tests.factories.PORTAL_PASSWORD
STATEMENT_START = None  # set in main: the first day of the month before last (opening balances are not zero)
MONEY = re.compile(r"(-?)\$([\d,]+\.\d\d)")
HOST = "127.0.0.1"


# --- HTML, read as a person reads it ---------------------------------------------------------------

class Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.children, self.parent = tag, dict(attrs), [], parent

    def text(self) -> str:
        parts = []

        def walk(node):
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)
                    if child.tag in ("br", "p", "div", "li", "td", "th", "dd", "dt"):
                        parts.append(" ")

        walk(self)
        return " ".join("".join(parts).split())

    def all(self, tag, **attrs):
        out = []

        def walk(node):
            for child in node.children:
                if isinstance(child, Node):
                    if child.tag == tag and all(
                        (v in child.attrs.get(k.rstrip("_"), "").split()) if k.endswith("_") else
                        child.attrs.get(k) == v for k, v in attrs.items()):
                        out.append(child)
                    walk(child)

        walk(self)
        return out

    def first(self, tag, **attrs):
        found = self.all(tag, **attrs)
        return found[0] if found else None

    def ancestor(self, tag):
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
         "wbr"}


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, [(k, v or "") for k, v in attrs], self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, [(k, v or "") for k, v in attrs], self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        if self.current.tag not in ("script", "style"):
            self.current.children.append(data)


def parse_html(text: str) -> Node:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root


# The statement's per-account columns (one per kind of movement) and the kinds written as "−$x" there.
ACCOUNT_COLUMNS = {"invoice": "Invoiced", "payment": "Paid", "credit_note": "Credit notes", "refund": "Refunded",
                   "transfer_in": "From other accounts", "transfer_out": "To other accounts"}
CREDIT_KINDS = {"payment", "credit_note", "transfer_in"}


def money(text: str) -> Decimal | None:
    found = MONEY.search(text or "")
    if not found:
        return None
    value = Decimal(found.group(2).replace(",", ""))
    return -value if found.group(1) else value


def signed_money(text: str, sign: int = 1) -> Decimal | None:
    """An amount as the home table prints it: "−$10.00" taken off (sign -1 gives 10.00 back), "$940.00
    credit" below zero (-940.00)."""
    text = (text or "").replace("\u2212", "-")
    value = money(text)
    if value is None:
        return None
    if text.strip().endswith("credit"):
        value = -value
    return value * sign if value else abs(value)


def day(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text.strip(), "%d %b %Y").date()
    except ValueError:
        return None


def table_by_headers(doc: Node, *wanted: str):
    """The first table whose column headings include all of `wanted`: (headings, body rows, foot rows),
    each row a list of cell nodes."""
    for table in doc.all("table"):
        head = table.first("thead")
        if head is None:
            continue
        headings = [th.text() for th in head.all("th")]
        if all(w in headings for w in wanted):
            body = table.first("tbody")
            foot = table.first("tfoot")
            rows = [[c for c in tr.children if isinstance(c, Node) and c.tag in ("td", "th")]
                    for tr in (body.all("tr") if body else [])]
            foot_rows = [[c for c in tr.children if isinstance(c, Node) and c.tag in ("td", "th")]
                         for tr in (foot.all("tr") if foot else [])]
            return headings, rows, foot_rows
    return None


def stats(doc: Node) -> dict[str, str]:
    """Each `<dt>label</dt><dd>figure</dd>` of the page's figure boxes."""
    out = {}
    for dl in doc.all("dl"):
        pending = None
        for node in _walk_tags(dl, ("dt", "dd")):
            if node.tag == "dt":
                pending = node.text()
            elif pending is not None:
                out.setdefault(pending, node.text())
                pending = None
    return out


def _walk_tags(node, tags):
    for child in node.children:
        if isinstance(child, Node):
            if child.tag in tags:
                yield child
            else:
                yield from _walk_tags(child, tags)


def next_link(doc: Node, param: str, current: str = "") -> str | None:
    """The href of a rel=next link that moves `param` away from its `current` value (a page may paginate two
    lists, and each list's links keep the other's parameter)."""
    for a in doc.all("a", rel="next"):
        value = parse_qs(urlparse(a.attrs.get("href", "")).query).get(param)
        if value and value[0] != current:
            return a.attrs["href"]
    return None


# --- HTTP clients ----------------------------------------------------------------------------------

class Browser:
    """A logged-in person: cookies, CSRF, retries when the server is away (as a person would reload)."""

    def __init__(self, base: str, log: list, name: str, retry_for: float = 25.0):
        import requests

        self.base, self.log, self.name, self.retry_for = base, log, name, retry_for
        self.session = requests.Session()
        self.requests = requests

    def request(self, method: str, path: str, kind: str, data=None, expect=(200, 302), allow_redirects=False):
        url = urljoin(self.base, path)
        deadline = time.time() + self.retry_for
        while True:
            started = time.time()
            try:
                r = self.session.request(method, url, data=data, allow_redirects=allow_redirects, timeout=60)
            except self.requests.RequestException as exc:
                self.log.append((started, time.time(), kind, "conn", type(exc).__name__))
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
                continue
            self.log.append((started, time.time(), kind, r.status_code, ""))
            if r.status_code >= 500 and time.time() < deadline:
                time.sleep(0.5)
                continue
            return r

    def get(self, path, kind, **kw):
        return self.request("GET", path, kind, **kw)

    def post(self, path, kind, data, **kw):
        data = dict(data)
        data["csrfmiddlewaretoken"] = self.session.cookies.get("csrftoken", "")
        return self.request("POST", path, kind, data=data, **kw)

    def login(self, email: str):
        self.get("/accounts/login/", "login")
        r = self.post("/accounts/login/", "login", {"login": email, "password": PASSWORD})
        if r.status_code != 302:
            raise RuntimeError(f"{email}: login answered {r.status_code}")


def _think(rng, low=0.05, high=0.25):
    time.sleep(rng.uniform(low, high))


def _child_signals():
    """A client process dies quietly when the run stops it (the parent's handlers raise KeyboardInterrupt)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def reader_client(base, email, stop_at, out_path, seed, statement_query):
    """Reads home, invoices (every page), payments (every page), statement (every page), sometimes the PDF."""
    _child_signals()
    rng = random.Random(seed)
    log, problems = [], []
    b = Browser(base, log, email)
    try:
        b.login(email)
        n = 0
        while time.time() < stop_at:
            n += 1
            b.get("/", "home")
            path = "/invoices/?tab=all"
            for _ in range(20):
                r = b.get(path, "invoices")
                nxt = next_link(parse_html(r.text), "page", parse_qs(urlparse(path).query).get("page", ["1"])[0]) \
                    if r.status_code == 200 else None
                if not nxt or time.time() >= stop_at:
                    break
                path = urljoin("/invoices/", nxt)
            b.get("/payments/", "payments")
            b.get(f"/statement/?{statement_query}", "statement")
            if n % 25 == 0:
                b.get(f"/statement/pdf/?{statement_query}", "statement_pdf")
            _think(rng)
    except Exception as exc:  # noqa: BLE001 - a client's failure is reported, not raised
        problems.append(f"{email}: {type(exc).__name__}: {exc}")
    Path(out_path).write_text(json.dumps({"log": log, "problems": problems, "payments": []}, default=str))


def _form_inputs(form: Node, rng) -> list[tuple[str, str]]:
    """The hidden fields and the amount boxes as the page filled them (now and then half an amount)."""
    out = []
    for i in form.all("input"):
        name, kind, value = i.attrs.get("name"), i.attrs.get("type"), i.attrs.get("value", "")
        if not name or name == "csrfmiddlewaretoken":
            continue
        if kind == "text" and name.startswith("amount_") and rng.random() < 0.2:
            half = (Decimal(value) / 2).quantize(Decimal("0.01"))
            value = str(half if half > 0 else value)
        if kind in ("hidden", "text"):
            out.append((name, value))
    return out


def _h1(html: str) -> str:
    h1 = parse_html(html).first("h1")
    return h1.text() if h1 else ""


def _outcome_of_done(html: str) -> str:
    title = _h1(html)
    return {"Thank you: payment received": "succeeded", "Payment processing": "processing",
            "Payment failed": "failed"}.get(title, f"unknown: {title}")


def client_settles(token: str) -> bool:
    """Half of the ACH payments are settled by their payer's click, half by the bank (webhook + Celery)."""
    return int(token[0], 16) >= 8


def payer_client(base, email, stop_at, out_path, seed):
    _child_signals()
    rng = random.Random(seed)
    log, problems, payments = [], [], []
    b = Browser(base, log, email)
    try:
        b.login(email)
        while time.time() < stop_at:
            try:
                record = _pay_once(b, rng)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{email}: {type(exc).__name__}: {exc}")
                record = None
            if record:
                payments.append(record)
            _think(rng, 0.2, 0.6)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"{email}: {type(exc).__name__}: {exc}")
    Path(out_path).write_text(json.dumps({"log": log, "problems": problems, "payments": payments}, default=str))


def _pay_once(b: Browser, rng) -> dict | None:
    r = b.get("/invoices/?tab=all&status=unpaid", "pay_list")
    doc = parse_html(r.text)
    ids = [i.attrs["value"] for i in doc.all("input", name="invoice") if i.attrs.get("type") == "checkbox"]
    if not ids:
        return None
    if rng.random() < 0.5:
        path = f"/pay/invoice/{rng.choice(ids)}/"
        r = b.get(path, "pay_page")
        if r.status_code == 302:  # paid meanwhile
            return None
    else:
        path = "/pay/selected/"
        chosen = rng.sample(ids, min(len(ids), rng.randint(1, 3)))
        r = b.post(path, "pay_page", {"invoice": chosen})
        if r.status_code == 302:
            return None
    form = next((f for f in parse_html(r.text).all("form") if f.first("input", name="method")), None)
    if form is None:
        return None
    methods = [i.attrs["value"] for i in form.all("input", name="method")]
    method = "ach" if "ach" in methods and rng.random() < 0.45 else "card"
    fields = _form_inputs(form, rng)
    data = defaultdict(list)
    for k, v in fields:
        data[k].append(v)
    data["method"] = [method]
    r = b.post(path, "pay_submit", data)
    if r.status_code != 302 or "/pay/checkout/" not in r.headers.get("Location", ""):
        alert = parse_html(r.text).first("div", class_="alert-error")
        return {"token": None, "method": method, "seen": f"refused {r.status_code}",
                "error": alert.text() if alert else ""}
    checkout = urlparse(r.headers["Location"]).path
    token = checkout.rstrip("/").split("/")[-1]
    record = {"token": token, "method": method, "scenarios": [], "seen": None, "settled_by": None}
    r = b.get(checkout, "checkout")
    if r.status_code == 302:  # someone (a retried POST) confirmed it already
        return _done(b, record)
    if method == "card":
        scenario = "card_decline" if rng.random() < 0.25 else "card_success"
    else:
        scenario = "ach_fails" if rng.random() < 0.3 else "ach_settles"
    record["scenarios"].append(scenario)
    r = b.post(checkout, "confirm", {"scenario": scenario})
    if r.status_code == 402 and scenario == "card_decline":
        record["seen"] = "declined"
        if rng.random() < 0.5:  # try again with a card that works, on the same checkout
            record["scenarios"].append("card_success")
            r = b.post(checkout, "confirm", {"scenario": "card_success"})
        else:
            return record
    if r.status_code != 302:
        alert = parse_html(r.text).first("div", class_="alert-error")
        record["seen"] = f"confirm {r.status_code}"
        record["error"] = alert.text() if alert else ""
        return record
    _done(b, record)
    if method == "ach" and record["seen"] == "processing" and client_settles(token):
        time.sleep(rng.uniform(0.2, 1.0))
        outcome = "fail" if scenario == "ach_fails" else "settle"
        r = b.post(f"/pay/checkout/{token}/settle/", "settle", {"outcome": outcome})
        record["settled_by"] = f"payer:{outcome}"
        _done(b, record)
    return record


def _done(b: Browser, record: dict) -> dict:
    r = b.get(f"/pay/checkout/{record['token']}/done/", "done")
    record["seen"] = _outcome_of_done(r.text) if r.status_code == 200 else f"done {r.status_code}"
    return record


# --- the bookkeeper and the bank (one process, django.setup()) -------------------------------------

def bookkeeper(base, stop_at, out_path, seed):
    from django.db import connections

    _child_signals()
    connections.close_all()  # forked: never share the parent's connection
    rng = random.Random(seed)
    log, problems, done = [], [], Counter()
    bank = Bank(base, log, problems)
    stale = {}  # (customer, figure) -> first snapshot that showed it: {t, kept, recomputed}
    try:
        next_bank = next_snapshot = time.time()
        while time.time() < stop_at:
            if time.time() >= next_bank:
                bank.round()
                next_bank = time.time() + 1.0
            if time.time() >= next_snapshot:
                _snapshot_kept_figures(stale)
                next_snapshot = time.time() + 10.0
            action = rng.choices(["invoice", "payment", "payment_then_allocate", "credit_note", "refund",
                                  "online_refund", "credit_refund"], weights=[3, 3, 1, 2, 2, 1, 1])[0]
            try:
                if _bookkeeping(action, rng):
                    done[action] += 1
                else:
                    done[f"{action}: nothing to do"] += 1
            except Exception as exc:  # noqa: BLE001 - a refused action (ValidationError) is counted
                name = type(exc).__name__
                done[f"{action}: {name}"] += 1
                if name not in ("ValidationError", "PaymentDeclined"):
                    problems.append(f"bookkeeper {action}: {name}: {exc}")
                    traceback.print_exc()
            time.sleep(rng.uniform(0.2, 0.5))
        bank.round(final=True)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"bookkeeper: {type(exc).__name__}: {exc}")
        traceback.print_exc()
    Path(out_path).write_text(json.dumps({"log": log, "problems": problems, "payments": [],
                                          "bookkeeping": dict(done), "bank": bank.summary(),
                                          "stale": [{"customer": k[0], "figure": k[1], **v} for k, v in stale.items()]},
                                         default=str))


def _snapshot_kept_figures(stale: dict) -> None:
    """Mid-run: the kept account figures (AccountBalance, what home and the statement's opening balance read)
    against the recomputation, both read in one REPEATABLE READ snapshot, so a ledger action that commits
    without refreshing its accounts shows even if a later action refreshes them before the end."""
    from django.db import connection

    import bench.soak_truth as soak_truth

    for customer, figure, kept, recomputed in soak_truth.load(connection).kept_problems():
        stale.setdefault((customer, figure), {"t": time.time(), "kept": kept, "recomputed": recomputed})


def _open_invoices(customer_ids=None, regular=True):
    from billing.models import Invoice

    qs = Invoice.objects.open()
    if regular:
        qs = qs.regular()
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    return list(qs.order_by("?")[:5])


def _subtree(customer_id: int) -> list[int]:
    from billing.models import Customer

    rows = list(Customer.objects.values_list("pk", "parent_id", "allow_parent_access"))
    out, todo = {customer_id}, [customer_id]
    while todo:
        node = todo.pop()
        for pk, parent, allows in rows:
            if parent == node and allows and pk not in out:
                out.add(pk)
                todo.append(pk)
    return sorted(out)


def _cents(rng, low, high) -> Decimal:
    return Decimal(rng.randint(int(low * 100), int(high * 100))) / 100


def _bookkeeping(action: str, rng) -> bool:
    from django.utils import timezone

    from billing.models import CreditNote, Customer, Payment
    from billing.services import (
        LineInput,
        allocate_payment,
        apply_credit_note,
        create_credit_note,
        create_invoice,
        record_payment,
        refund_credit_note,
        refund_payment,
        send_invoice,
    )
    from billing.services.online_payments import refund_online_payment

    today = timezone.localdate()
    customers = list(Customer.objects.filter(display_name__startswith="Soak").order_by("pk")) + list(
        Customer.objects.filter(display_name="Solo Traders"))
    customer = rng.choice(customers)
    if action == "invoice":
        issued = today - dt.timedelta(days=rng.randint(0, 70))
        lines = [LineInput(description=f"Soak service {rng.randint(1, 99)}", quantity=Decimal(rng.randint(1, 3)),
                           rate=_cents(rng, 15, 400), tax_percent=rng.choice([Decimal("0"), Decimal("8.25")]))
                 for _ in range(rng.randint(1, 3))]
        invoice = create_invoice(customer=customer, lines=lines, issued_on=issued,
                                 due_on=issued + dt.timedelta(days=rng.choice([10, 30, 60])),
                                 allow_partial_payments=rng.random() < 0.8)
        send_invoice(invoice=invoice)
        return True
    if action in ("payment", "payment_then_allocate"):
        invoices = _open_invoices(_subtree(customer.pk))[: rng.randint(1, 2)]
        allocations = {}
        for inv in invoices:
            part = inv.balance_due if rng.random() < 0.6 else (inv.balance_due / 2).quantize(Decimal("0.01"))
            allocations[inv.pk] = part if part > 0 else inv.balance_due
        extra = _cents(rng, 1, 60) if rng.random() < 0.3 or not allocations else Decimal("0.00")
        amount = sum(allocations.values(), Decimal("0.00")) + extra
        method = rng.choice(["cash", "cheque", "bank_transfer"])
        if action == "payment":
            record_payment(customer=customer, amount=amount, paid_on=today, method=method,
                           reference=f"SOAK-{rng.randint(1000, 9999)}", allocations=allocations)
        else:
            payment = record_payment(customer=customer, amount=amount, paid_on=today, method=method)
            if allocations:
                allocate_payment(payment=payment, allocations=allocations)
        return True
    if action == "credit_note":
        note = create_credit_note(customer=customer, lines=[LineInput(description="Soak goodwill credit",
                                                                      rate=_cents(rng, 5, 80))],
                                  reason="Soak credit")
        invoices = _open_invoices(_subtree(customer.pk))
        if invoices and rng.random() < 0.7:
            inv = invoices[0]
            apply_credit_note(credit_note=note, applications={inv.pk: min(note.balance, inv.balance_due)})
        return True
    if action == "refund":
        payment = (Payment.objects.filter(status="succeeded", gateway="", customer__in=customers)
                   .order_by("?").first())
        if payment is None:
            return False
        left = payment.amount - payment.refunded_amount
        amount = min(left, max(Decimal("0.01"), (left * Decimal(rng.choice(["0.25", "0.5", "1"]))).quantize(
            Decimal("0.01"))))
        refund_payment(payment=payment, amount=amount, method=payment.method, reference="SOAK-REFUND")
        return True
    if action == "online_refund":
        payment = Payment.objects.filter(status="succeeded", method="card", gateway="sandbox").order_by("?").first()
        if payment is None:
            return False
        left = payment.amount - payment.refunded_amount
        amount = min(left, max(Decimal("0.01"), (left / 2).quantize(Decimal("0.01"))))
        refund_online_payment(payment=payment, amount=amount)
        return True
    if action == "credit_refund":
        note = CreditNote.objects.filter(status="open", balance__gt=0).order_by("?").first()
        if note is None:
            return False
        refund_credit_note(credit_note=note, amount=min(note.balance, Decimal("5.00")), reference="SOAK-CN-REFUND")
        return True
    raise ValueError(action)


class Bank:
    """Days pass for the ACH debits left to the bank: settle or return them at the sandbox gateway, then
    deliver the gateway's events as signed webhooks over HTTP (the web answers, Celery applies them)."""

    def __init__(self, base, log, problems):
        self.base, self.log, self.problems = base, log, problems
        self.outcomes: dict[str, str] = {}  # token -> "settle" / "fail"
        self.undelivered: list[dict] = []
        self.webhooks = Counter()

    def round(self, final=False):
        from django.db import transaction
        from django.utils import timezone

        from billing.gateways import GatewayError, get_gateway
        from billing.models import CheckoutAttempt
        from billing.models.online import SandboxObject

        gateway = get_gateway("sandbox")
        due = CheckoutAttempt.objects.filter(status="processing", method="ach",
                                             updated_at__lte=timezone.now() - dt.timedelta(seconds=2))
        for attempt in due:
            token = str(attempt.token)
            if client_settles(token) or token in self.outcomes:
                continue
            intent = SandboxObject.objects.get(pk=attempt.gateway_intent_id)
            pm = SandboxObject.objects.get(pk=intent.data["payment_method"])
            succeed = not pm.data.get("ach_failure")
            try:
                # The gateway's events for this intent are taken in the same transaction, so no web request's
                # in-request delivery (deliver_sandbox_events) ever sees them: they reach the ledger only as
                # webhooks, through the Celery worker, as Stripe's would.
                with transaction.atomic():
                    gateway.settle_ach(attempt.gateway_intent_id, succeed=succeed)
                    events = list(SandboxObject.objects.select_for_update().filter(
                        kind="event", data__delivered=False, data__payload__data__object__id=attempt.gateway_intent_id))
                    for event in events:
                        event.data["delivered"] = True
                        event.save(update_fields=["data"])
            except GatewayError:
                continue
            self.outcomes[token] = "settle" if succeed else "fail"
            self.undelivered.extend(e.data["payload"] for e in events)
        self._deliver(deadline=time.time() + (60 if final else 5))

    def _deliver(self, deadline):
        import requests

        while self.undelivered:
            payload = self.undelivered[0]
            body = json.dumps(payload)
            stamp = int(time.time())
            signature = hmac.new(b"whsec_sandbox", f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
            started = time.time()
            try:
                r = requests.post(urljoin(self.base, "/webhooks/stripe/"), data=body.encode(), timeout=30,
                                  headers={"Stripe-Signature": f"t={stamp},v1={signature}",
                                           "Content-Type": "application/json"})
                status = r.status_code
            except requests.RequestException as exc:
                status = "conn"
                self.log.append((started, time.time(), "webhook", status, type(exc).__name__))
            else:
                self.log.append((started, time.time(), "webhook", status, ""))
            if status == 200:
                self.undelivered.pop(0)
                self.webhooks[payload["type"]] += 1
                continue
            if status == 400:
                self.problems.append(f"webhook {payload['id']} refused: 400")
                self.undelivered.pop(0)
                continue
            if time.time() > deadline:
                return  # tried again next round, as Stripe retries
            time.sleep(0.5)

    def summary(self):
        return {"outcomes": self.outcomes, "webhooks": dict(self.webhooks), "undelivered": len(self.undelivered)}


# --- servers ---------------------------------------------------------------------------------------

class Servers:
    def __init__(self, args, env, run_dir: Path):
        self.args, self.env, self.run_dir = args, env, run_dir
        self.web = self.worker = None
        self.windows: list[tuple[float, float, str]] = []
        self.base = f"http://{HOST}:{args.port}"

    def _spawn(self, command, log_name):
        log = open(self.run_dir / log_name, "ab")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start_web(self):
        self.web = self._spawn([sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2",
                                "--bind", f"{HOST}:{self.args.port}", "--timeout", "90",
                                "--graceful-timeout", "20", "--log-level", "warning"], "gunicorn.log")
        self.wait_web()

    def wait_web(self, timeout=60):
        import requests

        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if requests.get(f"{self.base}/accounts/login/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s (see gunicorn.log)")

    def start_worker(self):
        self.worker = self._spawn([sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "2",
                                   "--loglevel", "warning", "--without-gossip", "--without-mingle",
                                   "-n", f"soak{os.getpid()}@%h"], "celery.log")

    def kill_worker(self):
        """A crash: SIGKILL to the worker and its pool processes, nothing warm."""
        held = subprocess.run(["redis-cli", "-u", self.args.redis, "HLEN", "unacked"], capture_output=True,
                              text=True).stdout.strip()
        started = time.time()
        _kill_group(self.worker, signal.SIGKILL)
        self.windows.append((started, time.time(), f"celery SIGKILL (tasks it held unacknowledged: {held or '?'})"))

    def restart_web(self):
        """SIGTERM to the master (it stops its workers gracefully), then a new master on the same port."""
        started = time.time()
        self.web.send_signal(signal.SIGTERM)
        try:
            self.web.wait(timeout=40)
        except subprocess.TimeoutExpired:
            _kill_group(self.web, signal.SIGKILL)
        stopped = time.time()
        self.start_web()
        self.windows.append((started, time.time(),
                             f"gunicorn restart (old master gone after {stopped - started:.1f}s)"))

    def stop(self):
        for proc in (self.web, self.worker):
            _kill_group(proc, signal.SIGTERM, wait=15)


def _kill_group(proc, sig, wait=10):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# --- seed ------------------------------------------------------------------------------------------

HIERARCHY = [
    # (name, parent, allow_parent_access, contacts)
    ("Soak Holdings", None, True, ["ops@soak.example", "finance@soak.example"]),
    ("Soak East", "Soak Holdings", True, ["east@soak.example"]),
    ("Soak East Depot", "Soak East", True, ["depot@soak.example"]),
    ("Soak East Private", "Soak East", False, ["eastprivate@soak.example"]),
    ("Soak West", "Soak Holdings", True, []),
    ("Soak West Private", "Soak Holdings", False, ["westprivate@soak.example"]),
    ("Soak West Private Lab", "Soak West Private", True, ["lab@soak.example"]),
    ("Solo Traders", None, True, ["solo@soak.example"]),
]
READERS = ["ops@soak.example", "finance@soak.example", "east@soak.example", "depot@soak.example",
           "eastprivate@soak.example", "westprivate@soak.example", "lab@soak.example", "solo@soak.example"]
PAYERS = ["finance@soak.example", "east@soak.example", "westprivate@soak.example", "solo@soak.example"]


def seed(rng) -> None:
    from django.utils import timezone

    from billing.models import Customer, Organisation
    from billing.services import (
        LineInput,
        apply_credit_note,
        apply_retainer,
        create_credit_note,
        create_invoice,
        link_to_parent,
        record_payment,
        send_invoice,
    )
    from tests.factories import ContactPersonFactory

    Organisation.objects.update_or_create(pk=1, defaults={"name": "Acme Networks", "email": "billing@acme.example"})
    today = timezone.localdate()
    made = {}
    for name, parent, allows, emails in HIERARCHY:
        customer = Customer.objects.create(display_name=name, company_name=f"{name} LLC", currency="USD",
                                           portal_enabled=True, allow_ach=True, email=f"ap@{len(made)}.soak.example")
        if parent:
            customer = link_to_parent(customer=customer, parent=made[parent], allow_parent_access=allows)
        made[name] = customer
        for i, email in enumerate(emails):
            ContactPersonFactory(customer=customer, email=email, user__email=email, first_name=email.split("@")[0],
                                 is_primary=i == 0)
    for customer in made.values():
        for _ in range(8):
            issued = today - dt.timedelta(days=rng.randint(5, 110))
            lines = [LineInput(description=f"Managed service {k}", quantity=Decimal(rng.randint(1, 4)),
                               rate=_cents(rng, 20, 600), tax_percent=rng.choice([Decimal("0"), Decimal("8.25")]),
                               discount_percent=rng.choice([Decimal("0"), Decimal("5")]))
                     for k in range(rng.randint(1, 3))]
            invoice = create_invoice(customer=customer, lines=lines, issued_on=issued,
                                     due_on=issued + dt.timedelta(days=30), allow_partial_payments=rng.random() < 0.8)
            send_invoice(invoice=invoice)
    # History before the run: partial payments, a parent paying a branch, a credit note, a retainer.
    holdings, east = made["Soak Holdings"], made["Soak East"]
    for customer in made.values():
        invoices = _open_invoices([customer.pk])[:2]
        record_payment(customer=customer, amount=sum((i.balance_due for i in invoices), Decimal("0.00")),
                       paid_on=min(today, max(i.issued_on for i in invoices) + dt.timedelta(days=rng.randint(0, 20))),
                       method="bank_transfer",
                       allocations={i.pk: i.balance_due for i in invoices})
    branch_invoice = _open_invoices([made["Soak East Depot"].pk])[0]
    half = (branch_invoice.balance_due / 2).quantize(Decimal("0.01"))
    record_payment(customer=holdings, amount=half + Decimal("25.00"),
                   paid_on=max(branch_invoice.issued_on, today - dt.timedelta(days=20)),
                   method="cheque", allocations={branch_invoice.pk: half})
    note = create_credit_note(customer=east, lines=[LineInput(description="Service credit", rate=Decimal("75.00"))],
                              issued_on=today - dt.timedelta(days=15), reason="Outage")
    apply_credit_note(credit_note=note, applications={_open_invoices([east.pk])[0].pk: Decimal("40.00")})
    retainer = create_invoice(customer=holdings, lines=[LineInput(description="Retainer", rate=Decimal("500.00"))],
                              issued_on=today - dt.timedelta(days=60), is_retainer=True)
    send_invoice(invoice=retainer)
    record_payment(customer=holdings, amount=Decimal("500.00"), paid_on=today - dt.timedelta(days=55),
                   method="bank_transfer", allocations={retainer.pk: Decimal("500.00")})
    target = _open_invoices([holdings.pk])[0]
    apply_retainer(retainer=retainer, applications={target.pk: min(Decimal("200.00"), target.balance_due)})
    second = create_invoice(customer=holdings, lines=[LineInput(description="Retainer, Q1", rate=Decimal("300.00"))],
                            issued_on=today - dt.timedelta(days=10), is_retainer=True)
    send_invoice(invoice=second)


# --- checking what the pages show ------------------------------------------------------------------

class Checker:
    def __init__(self, base, truth, today, statement_query, start):
        self.base, self.truth, self.today, self.query, self.start = base, truth, today, statement_query, start
        self.mismatches: list[str] = []
        self.figures = 0
        self.log: list = []

    def expect(self, where, what, shown, expected):
        self.figures += 1
        if shown != expected:
            self.mismatches.append(f"{where}: {what}: shown {shown}, expected {expected}")

    def contact(self, email, customer_id):
        b = Browser(self.base, self.log, email, retry_for=5)
        b.login(email)
        self.home(b, email, customer_id)
        self.invoices(b, email, customer_id)
        self.payments(b, email, customer_id)
        self.statement(b, email, customer_id)

    def home(self, b, email, customer_id):
        want = self.truth.home(customer_id)
        doc = parse_html(b.get("/", "check").text)
        where = f"{email} home"
        figures = stats(doc)
        t = want["total"]
        for label, key in (("Balance payable", "payable"), ("Outstanding invoices", "outstanding"),
                           ("Available credits", "credits"), ("Outstanding retainer invoices", "retainers_due"),
                           ("Available retainer payments", "retainers_paid")):
            self.expect(where, label, money(figures.get(label, "")), t[key])
        accounts = want["accounts"]
        table = table_by_headers(doc, "Account", "Outstanding", "Net balance")
        if len(accounts) <= 1:
            self.expect(where, "per-account table", table is not None, False)
            return
        if table is None:
            self.expect(where, "per-account table", "missing", "present")
            return
        headings, rows, foot = table
        cols = {h: i for i, h in enumerate(headings)}
        # Credits and retainer payments are printed as amounts taken off ("−$X"), the net balance signed
        # ("$X credit" below zero).
        columns = (("outstanding", "Outstanding", 1), ("credits", "Credits", -1),
                   ("retainers_paid", "Retainer payments", -1), ("net", "Net balance", 1),
                   ("retainers_due", "Retainers due", 1))
        shown = {}
        for cells in rows:
            name = cells[0].text().removesuffix(" You").strip()
            shown[name] = {k: signed_money(cells[cols[h]].text(), sign) for k, h, sign in columns}
        self.expect(where, "accounts listed", sorted(shown), sorted(a["name"] for a in accounts))
        for a in accounts:
            for key, value in shown.get(a["name"], {}).items():
                self.expect(where, f"{a['name']} {key}", value, a[key])
        if foot:
            for key, h, sign in columns:
                self.expect(where, f"total row {key}", signed_money(foot[0][cols[h]].text(), sign), t[key])

    def _pages(self, b, path, param, *headers):
        rows, headings = [], None
        for _ in range(200):
            r = b.get(path, "check")
            doc = parse_html(r.text)
            table = table_by_headers(doc, *headers)
            if table is None:
                break
            headings, body, _foot = table
            rows.extend(body)
            nxt = next_link(doc, param, parse_qs(urlparse(path).query).get(param, ["1"])[0])
            if not nxt:
                break
            path = urljoin(urlparse(path).path, nxt)
        return headings, rows

    def invoices(self, b, email, customer_id):
        want = self.truth.invoice_rows(customer_id, self.today)
        where = f"{email} invoices"
        headings, rows = self._pages(b, "/invoices/?tab=all", "page", "Number", "Balance due")
        shown = {}
        if headings:
            cols = {h: i for i, h in enumerate(headings)}
            for cells in rows:
                number = cells[cols["Number"]].text()
                shown[number] = {
                    "issued_on": day(cells[cols["Date"]].text()), "due_on": day(cells[cols["Due date"]].text()),
                    "status": cells[cols["Status"]].text(), "total": money(cells[cols["Amount"]].text()),
                    "balance": money(cells[cols["Balance due"]].text()),
                    "account": cells[cols["Account"]].text() if "Account" in cols else None}
        self.expect(where, "invoices listed", sorted(shown), sorted(want))
        for number, row in want.items():
            got = shown.get(number)
            if got is None:
                continue
            for key in ("issued_on", "due_on", "status", "total", "balance"):
                self.expect(where, f"{number} {key}", got[key], row[key])
            if got["account"] is not None:
                self.expect(where, f"{number} account", got["account"], row["account"])

    def payments(self, b, email, customer_id):
        want = self.truth.payment_rows(customer_id)
        where = f"{email} payments"
        headings, rows = self._pages(b, "/payments/", "page", "Receipt", "Amount")
        shown = {}
        if headings:
            cols = {h: i for i, h in enumerate(headings)}
            for cells in rows:
                link = cells[cols["Receipt"]].first("a")
                number = link.text() if link else cells[cols["Receipt"]].text()
                shown[number] = {"paid_on": day(cells[cols["Date"]].text()),
                                 "method": cells[cols["Method"]].text(), "status": cells[cols["Status"]].text(),
                                 "amount": money(cells[cols["Amount"]].text()),
                                 "account": cells[cols["Paid by"]].text() if "Paid by" in cols else None}
        self.expect(where, "payments listed", sorted(shown), sorted(want))
        for number, row in want.items():
            got = shown.get(number)
            if got is None:
                continue
            for key in ("paid_on", "method", "status", "amount"):
                self.expect(where, f"{number} {key}", got[key], row[key])
            if got["account"] is not None:
                self.expect(where, f"{number} paid by", got["account"], row["account"])

    def statement(self, b, email, customer_id):
        want = self.truth.statement(customer_id, self.start, self.today)
        where = f"{email} statement"
        path = f"/statement/?{self.query}"
        lines, accounts, first = [], [], None
        balance_chain_ok = True
        for page in range(1, 200):
            doc = parse_html(b.get(f"{path}&page={page}", "check").text)
            if first is None:
                first = doc
            table = table_by_headers(doc, "Transaction", "Balance")
            if table is None:
                break
            headings, body, foot = table
            cols = {h: i for i, h in enumerate(headings)}
            running = money(body[0][-1].text()) if body else None  # opening / brought forward (spans columns)
            if page == 1:
                self.expect(where, "opening row", running, want["opening"])
            for cells in body[1:]:
                line = {"date": day(cells[cols["Date"]].text()), "label": cells[cols["Transaction"]].text(),
                        "debit": money(cells[cols["Amount"]].text()) or Decimal("0.00"),
                        "credit": money(cells[cols["Payments"]].text()) or Decimal("0.00"),
                        "account": cells[cols["Account"]].text() if "Account" in cols else None}
                balance = money(cells[cols["Balance"]].text())
                running = running + line["debit"] - line["credit"]
                if balance != running:
                    balance_chain_ok = False
                    self.mismatches.append(f"{where}: page {page} line {line['label']} balance {balance}, "
                                           f"running total of the lines above {running}")
                lines.append(line)
            if foot:
                self.expect(where, f"page {page} footer closing", money(foot[0][-1].text()), want["closing"])
            if not next_link(doc, "page", str(page)):
                break
        self.expect(where, "running balances", balance_chain_ok, True)
        figures = stats(first) if first is not None else {}
        for label, key in (("Opening balance", "opening"), ("Invoiced and charged", "debits"),
                           ("Paid and credited", "credits"), ("Balance due", "closing")):
            self.expect(where, label, money(figures.get(label, "")), want[key])

        def key(line):
            return (line["date"], line["label"], line["debit"], line["credit"],
                    line["account"] if want["consolidated"] else None)

        shown_lines = Counter(key(line) for line in lines)
        want_lines = Counter(key(line) for line in want["lines"])
        self.figures += len(want["lines"])
        for k in sorted(set(shown_lines) | set(want_lines), key=str):
            if shown_lines[k] != want_lines[k]:
                self.mismatches.append(f"{where}: line {k[0]} {k[1]} {k[4] or ''} debit {k[2]} credit {k[3]}: "
                                       f"shown {shown_lines[k]} time(s), expected {want_lines[k]}")
        if want["consolidated"]:
            accounts = []
            path_accounts = f"{path}&accounts=1"
            for _ in range(50):
                doc = parse_html(b.get(path_accounts, "check").text)
                table = table_by_headers(doc, "Account", "Opening", "Closing")
                if table is None:
                    break
                headings, body, _foot = table
                cols = {h: i for i, h in enumerate(headings)}
                for c in body:
                    # each kind in a column of its own, credits written "−$x"; a kind without any amount in
                    # the period has no column
                    by_kind = {kind: signed_money(c[cols[heading]].text(), -1 if kind in CREDIT_KINDS else 1)
                               if heading in cols else Decimal("0.00") for kind, heading in ACCOUNT_COLUMNS.items()}
                    accounts.append({"name": c[0].text(), "opening": money(c[cols["Opening"]].text()),
                                     "closing": money(c[cols["Closing"]].text()), "by_kind": by_kind})
                nxt = next_link(doc, "accounts", parse_qs(urlparse(path_accounts).query).get("accounts", ["1"])[0])
                if not nxt:
                    break
                path_accounts = urljoin("/statement/", nxt)
            self.expect(where, "accounts", [a["name"] for a in accounts], [a["name"] for a in want["accounts"]])
            for got, exp in zip(accounts, want["accounts"], strict=False):
                for k in ("opening", "closing"):
                    self.expect(where, f"account {exp['name']} {k}", got[k], exp[k])
                for kind, amount in exp["by_kind"].items():
                    self.expect(where, f"account {exp['name']} {ACCOUNT_COLUMNS[kind]}", got["by_kind"][kind], amount)
        self.statement_pdf(b, email, want, lines)

    def statement_pdf(self, b, email, want, html_lines):
        where = f"{email} statement PDF"
        r = b.get(f"/statement/pdf/?{self.query}", "check")
        if r.status_code != 200 or not r.content.startswith(b"%PDF"):
            self.expect(where, "PDF", r.status_code, 200)
            return
        text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=r.content, capture_output=True,
                              check=True).stdout.decode()
        pdf = parse_statement_pdf(text)
        for label, key in (("Opening balance", "opening"), ("Invoiced amount", "debits"), ("Amount paid", "credits"),
                           ("Balance due", "closing")):
            self.expect(where, label, pdf["figures"].get(label), want[key])
        self.expect(where, "opening row", pdf["opening_row"], want["opening"])
        running = pdf["opening_row"]
        for row in pdf["rows"]:
            running = (running or Decimal("0.00")) + row["debit"] - row["credit"]
            if row["balance"] != running:
                self.mismatches.append(f"{where}: line {row['date']} {row['number']} balance {row['balance']}, "
                                       f"running total of the lines above {running}")
                break
        self.expect(where, "last running balance", running, want["closing"])

        def key(line, number):
            return (line["date"], number, line["debit"], line["credit"],
                    line["account"] if want["consolidated"] else None)

        shown = Counter(key(row, row["number"]) for row in pdf["rows"])
        expected = Counter(key(line, line["label"].split()[-1]) for line in want["lines"])
        self.figures += len(want["lines"])
        for k in sorted(set(shown) | set(expected), key=str):
            if shown[k] != expected[k]:
                self.mismatches.append(f"{where}: line {k[0]} {k[1]} {k[4] or ''} debit {k[2]} credit {k[3]}: "
                                       f"printed {shown[k]} time(s), expected {expected[k]}")
        if want["consolidated"]:
            for a in want["accounts"]:
                got = pdf["accounts"].get(a["name"])
                self.expect(where, f"subtotals of {a['name']}", got,
                            (a["opening"], a["debits"], a["credits"], a["closing"]))
            self.expect(where, "subtotals total", pdf["accounts"].get("Total"),
                        (want["opening"], want["debits"], want["credits"], want["closing"]))


_NUMBER = re.compile(r"-?[\d,]+\.\d\d")
_DOC = re.compile(r"\b[A-Z]{2,4}-\d{3,}\b")


def _num(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def parse_statement_pdf(text: str) -> dict:
    """The statement PDF as pdftotext -layout prints it: the figure box, each row (date, document number,
    account, amount or payment by the column it stands under, balance) and the per-account subtotals."""
    figures, rows, accounts = {}, [], {}
    opening_row, columns, in_accounts = None, None, False
    for line in text.splitlines():
        for label in ("Opening balance", "Invoiced amount", "Amount paid", "Balance due"):
            if label in line and "$" in line and label not in figures:
                figures[label] = money(line[line.index(label):])
        heading = re.match(r"\s*Date\s+Transaction\s+Amount\s+Payments\s+Balance", line)
        if heading:
            columns = (line.index("Amount") + 6, line.index("Payments") + 8)
            in_accounts = False
            continue
        if line.strip().startswith("Per-account subtotals"):
            in_accounts = True
            continue
        if in_accounts:
            m = re.match(r"^(\S.*?)\s{2,}(-?[\d,]+\.\d\d)\s+(-?[\d,]+\.\d\d)\s+(-?[\d,]+\.\d\d)\s+"
                         r"(-?[\d,]+\.\d\d)\s*$", line)
            if m:
                accounts[m.group(1).strip()] = tuple(_num(m.group(i)) for i in range(2, 6))
            continue
        m = re.match(r"^(\d\d \w{3} \d{4})\s{2,}(.*)$", line)
        if not m or columns is None:
            continue
        numbers = list(_NUMBER.finditer(line))
        if not numbers:
            continue
        balance = _num(numbers[-1].group())
        description = m.group(2)
        doc = _DOC.search(description)
        if doc is None:
            if "Opening balance" in description and opening_row is None:
                opening_row = balance
            continue
        debit = credit = Decimal("0.00")
        for found in numbers[:-1]:
            if found.start() < len(m.group(1)) + 2 + doc.end():
                continue  # inside the description
            if abs(found.end() - columns[0]) <= abs(found.end() - columns[1]):
                debit = _num(found.group())
            else:
                credit = _num(found.group())
        account = description.split(" · ", 1)[0] if " · " in description else None
        rows.append({"date": day(m.group(1)), "number": doc.group(), "account": account, "debit": debit,
                     "credit": credit, "balance": balance})
    return {"figures": figures, "rows": rows, "accounts": accounts, "opening_row": opening_row}


# --- the run ---------------------------------------------------------------------------------------

def _psql(sql: str):
    subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


def main() -> int:  # noqa: C901 - one script, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--port", type=int, default=8131)
    parser.add_argument("--db", default="soak")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait for the worker afterwards")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    if not args.db.startswith("soak"):
        sys.exit("refusing: the soak database's name must start with soak")
    if urlparse(args.redis).hostname not in ("127.0.0.1", "localhost") or urlparse(args.redis).path in ("", "/0"):
        sys.exit("refusing: the soak needs a Redis database of its own on 127.0.0.1 (not 0)")
    run_dir = Path(tempfile.mkdtemp(prefix="soak-"))
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@{HOST}:5432/{args.db}",
           "DJANGO_SETTINGS_MODULE": "bench.settings_soak", "REDIS_URL": args.redis, "CELERY_BROKER_URL": args.redis,
           "PAYMENT_GATEWAY": "sandbox", "STRIPE_SECRET_KEY": "", "REDIS_AVAILABLE": "1",
           "CELERY_TASK_ALWAYS_EAGER": "0", "SITE_URL": f"http://{HOST}:{args.port}", "PYTHONUNBUFFERED": "1"}
    os.environ.update(env)
    print(f"run directory (logs): {run_dir}", flush=True)

    started = time.time()
    _psql(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
    _psql(f"CREATE DATABASE {args.db}")
    subprocess.run(["redis-cli", "-u", args.redis, "FLUSHDB"], check=True, capture_output=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True, cwd=ROOT, env=env)
    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    rng = random.Random(args.seed)
    seed(rng)
    today = timezone.localdate()
    start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    query = f"period=custom&start={start.isoformat()}&end={today.isoformat()}"
    print(f"seeded in {time.time() - started:.0f}s; statement period {start} – {today}", flush=True)
    connections.close_all()

    servers = Servers(args, env, run_dir)
    clients: list = []
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    interrupted = False

    def stop_on_signal(signum, frame):
        raise KeyboardInterrupt

    # Both set explicitly: a shell starts a background job with SIGINT ignored, and Python keeps that.
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    try:
        servers.start_web()
        servers.start_worker()
        t0 = time.time()
        stop_at = t0 + args.seconds
        results_dir = run_dir / "results"
        results_dir.mkdir()
        for i, email in enumerate(READERS):
            clients.append(ctx.Process(target=reader_client, name=f"reader-{i}", args=(
                servers.base, email, stop_at, results_dir / f"reader-{i}.json", args.seed * 100 + i, query)))
        for i, email in enumerate(PAYERS):
            clients.append(ctx.Process(target=payer_client, name=f"payer-{i}", args=(
                servers.base, email, stop_at, results_dir / f"payer-{i}.json", args.seed * 200 + i)))
        clients.append(ctx.Process(target=bookkeeper, name="bookkeeper", args=(
            servers.base, stop_at, results_dir / "bookkeeper.json", args.seed * 300)))
        for c in clients:
            c.start()
        print(f"{len(clients)} clients running for {args.seconds:.0f}s", flush=True)
        events = [(0.35, "kill worker"), (0.35 + 5 / args.seconds, "start worker"), (0.6, "restart web")]
        for at, what in events:
            time.sleep(max(0.0, t0 + at * args.seconds - time.time()))
            print(f"t={time.time() - t0:5.1f}s {what}", flush=True)
            if what == "kill worker":
                servers.kill_worker()
            elif what == "start worker":
                servers.start_worker()
            else:
                servers.restart_web()
        for c in clients:
            c.join(timeout=max(1.0, stop_at + 90 - time.time()))
        for c in clients:
            if c.is_alive():
                print(f"{c.name} did not stop: terminated", flush=True)
                c.terminate()
                c.join(5)
        t_end = time.time()
        print(f"load over after {t_end - t0:.0f}s; draining the worker", flush=True)

        # The worker applies every queued event (bounded wait).
        from billing.models import GatewayEvent

        deadline = time.time() + args.drain
        while time.time() < deadline:
            if not GatewayEvent.objects.filter(applied_at__isnull=True).exclude(outcome__startswith="waiting").exists():
                break
            time.sleep(1)
        unapplied = list(GatewayEvent.objects.filter(applied_at__isnull=True).values_list("event_id", "type",
                                                                                          "outcome"))
        redis_state = {k: subprocess.run(["redis-cli", "-u", args.redis, *cmd], capture_output=True,
                                         text=True).stdout.strip()
                       for k, cmd in (("queued", ["LLEN", "celery"]), ("unacked", ["HLEN", "unacked"]))}
        connections.close_all()

        report = verify(args, servers, results_dir, t0, t_end, today, start, query, unapplied, redis_state)
    except KeyboardInterrupt:
        interrupted = True
        report = None
        print("interrupted: stopping everything", flush=True)
    finally:
        for c in clients:
            if c.is_alive():
                c.terminate()
                c.join(5)
        servers.stop()
        connections.close_all()
    if interrupted or report is None:
        return 130
    print(report["markdown"])
    (run_dir / "summary.md").write_text(report["markdown"])
    print(f"\n(summary also in {run_dir / 'summary.md'})")
    return 1 if report["failed"] else 0


def verify(args, servers, results_dir, t0, t_end, today, start, query, unapplied, redis_state) -> dict:
    from django.db import connection

    import bench.soak_truth as soak_truth
    from billing.models import CheckoutAttempt, ContactPerson, Payment
    from billing.models.online import SandboxObject
    from billing.selectors.ledger_check import ledger_problems

    results = {p.stem: json.loads(p.read_text()) for p in sorted(results_dir.glob("*.json"))}
    log = [row for r in results.values() for row in r["log"]]
    client_problems = [p for r in results.values() for p in r["problems"]]
    statuses = Counter(str(row[3]) for row in log)
    kinds = Counter(row[2] for row in log)

    def in_window(row):
        return any(s - 1 <= row[0] <= e + 5 or s - 1 <= row[1] <= e + 5
                   for s, e, what in servers.windows if what.startswith("gunicorn"))

    bad_outside = [row for row in log if (row[3] == "conn" or (isinstance(row[3], int) and row[3] >= 500))
                   and not in_window(row)]
    bad_inside = [row for row in log if (row[3] == "conn" or (isinstance(row[3], int) and row[3] >= 500))
                  and in_window(row)]

    problems = ledger_problems()
    truth = soak_truth.load(connection)
    checker = Checker(servers.base, truth, today, query, start)
    # Pages are read with the servers up again (the check starts its own server if the run's is gone).
    if servers.web is None or servers.web.poll() is not None:
        servers.start_web()
    contacts = {c.email: c.customer_id for c in ContactPerson.objects.filter(user__isnull=False)}
    for email in READERS:
        try:
            checker.contact(email, contacts[email])
        except Exception as exc:  # noqa: BLE001
            where = traceback.extract_tb(exc.__traceback__)[-1]
            checker.mismatches.append(f"{email}: check failed: {type(exc).__name__}: {exc} (line {where.lineno})")
    truth_after = soak_truth.load(connection)
    if truth_after.payments.keys() != truth.payments.keys() or truth_after.invoices.keys() != truth.invoices.keys():
        checker.mismatches.append("the tables changed while the pages were checked (a client still running?)")

    # Money taken at the gateway against payments in the ledger.
    payer_records = [rec for name, r in results.items() if name.startswith("payer") for rec in r["payments"]]
    bank = results.get("bookkeeper", {}).get("bank", {"outcomes": {}, "webhooks": {}, "undelivered": 0})
    by_intent = defaultdict(list)
    for intent, status in Payment.objects.filter(gateway="sandbox").values_list("gateway_payment_id", "status"):
        by_intent[intent].append(status)
    lost, doubled, stalled, ghost = [], [], [], []
    intents = {o.pk: o.data for o in SandboxObject.objects.filter(kind="payment_intent")}
    attempts = {str(a.token): a for a in CheckoutAttempt.objects.all()}
    for pk, data in intents.items():
        got = by_intent.get(pk, [])
        if len(got) > 1:
            doubled.append(f"{pk}: {len(got)} payments")
        state = data["status"]
        if state == "succeeded" and got not in (["succeeded"], ["refunded"]):
            (stalled if got == ["pending"] else lost).append(f"{pk}: gateway succeeded, ledger {got or 'nothing'}")
        elif state == "processing" and got != ["pending"]:
            lost.append(f"{pk}: gateway processing, ledger {got or 'nothing'}")
        elif state == "requires_payment_method" and data.get("last_payment_error") and data["payment_method_types"] == [
                "us_bank_account"] and got not in (["failed"], ["pending"]):
            ghost.append(f"{pk}: bank returned it, ledger {got}")
        elif state == "requires_payment_method" and data.get("last_payment_error") and got == ["pending"]:
            stalled.append(f"{pk}: bank returned it, ledger still pending")
        elif state in ("requires_confirmation", "requires_payment_method") and not data.get("last_payment_error") \
                and got:
            ghost.append(f"{pk}: never confirmed, ledger {got}")
    # What the payers saw against the ledger: every success or processing they saw is one payment.
    seen = Counter(rec["seen"] if rec.get("token") else "refused" for rec in payer_records)
    # A declined card leaves its checkout open, and paying the same invoices again resumes that checkout (the
    # same token): what counts is the last thing the payer saw of each checkout.
    last_seen = {}
    for rec in payer_records:
        if rec.get("token"):
            last_seen[rec["token"]] = rec
    for token, rec in last_seen.items():
        attempt = attempts.get(token)
        if attempt is None:
            lost.append(f"checkout {token}: the payer saw {rec['seen']}, no such checkout")
            continue
        payments = by_intent.get(attempt.gateway_intent_id, [])
        if rec["seen"] in ("succeeded", "processing") and len(payments) != 1:
            (lost if not payments else doubled).append(f"checkout {token}: payer saw {rec['seen']}, "
                                                        f"{len(payments)} payments")
        if rec["seen"] == "succeeded" and payments and payments[0] not in ("succeeded", "refunded"):
            lost.append(f"checkout {token}: payer saw succeeded, payment {payments[0]}")
        if rec["seen"] == "declined" and payments:
            ghost.append(f"checkout {token}: payer saw a decline, payment {payments}")
        if rec.get("settled_by") == "payer:fail" and rec["seen"] != "failed":
            lost.append(f"checkout {token}: payer returned the ACH debit, done page says {rec['seen']}")
        if rec.get("settled_by") == "payer:settle" and rec["seen"] != "succeeded":
            lost.append(f"checkout {token}: payer settled the ACH debit, done page says {rec['seen']}")
    # ACH: settled, failed, or visibly processing (the invoice list shows "Payment processing": the truth
    # module's processing invoices are what the lists were checked against).
    ach = Counter(a.status for a in attempts.values() if a.method == "ach" and a.confirmed_at)
    ach_processing_unseen = [t for t, a in attempts.items() if a.method == "ach" and a.status == "processing"
                             and not set(a.lines.values_list("invoice_id", flat=True)) <= truth.processing_invoices]

    stale = results.get("bookkeeper", {}).get("stale", [])
    stale_lines = [f"t={x['t'] - t0:.0f}s customer {x['customer']} ({truth.customers[x['customer']]['display_name']}) "
                   f"{x['figure']}: kept {x['kept']}, recomputed {x['recomputed']}" for x in stale]
    failed = bool(stale or problems or checker.mismatches or lost or doubled or ghost or stalled or bad_outside
                  or client_problems or ach_processing_unseen or unapplied)
    elapsed = t_end - t0
    online = Payment.objects.filter(gateway="sandbox")
    lines = [
        f"### Soak run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC — {'FAILED' if failed else 'passed'}",
        "",
        f"`bench/soak.py --seconds {args.seconds:.0f}`: {elapsed:.0f} s of load on {os.cpu_count()} cores, "
        f"gunicorn 2 workers, Celery worker (SIGKILL at 35%, back 5 s later), gunicorn restarted at 60%; "
        f"{len(READERS)} readers, {len(PAYERS)} payers, 1 bookkeeper + bank. Load average at the end "
        f"{os.getloadavg()[0]:.1f} (other jobs share the machine).",
        "",
        "| what | figure |",
        "|---|---|",
        f"| requests | {len(log):,} ({len(log) / elapsed:.0f}/s): "
        + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common()) + " |",
        "| answers by status | " + ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items())) + " |",
        f"| 5xx / refused connections inside the restart windows | {len(bad_inside)} |",
        f"| **5xx / refused connections outside them** | **{len(bad_outside)}** |",
        "| checkouts by what the payer saw | " + ", ".join(f"{k} {v}" for k, v in seen.most_common()) + " |",
        "| pay pages' refusals (the invoices changed meanwhile) | " + (", ".join(
            f"{v}× “{k[:90]}”" for k, v in Counter(r["error"] for r in payer_records if r.get("error")).most_common(4))
            or "none") + " |",
        f"| online payments in the ledger | {online.count()} ("
        + ", ".join(f"{k} {v}" for k, v in Counter(online.values_list("status", flat=True)).most_common()) + ") |",
        "| ACH checkouts confirmed | " + ", ".join(f"{k} {v}" for k, v in ach.most_common())
        + f"; settled or returned by the bank via webhook + Celery: {len(bank['outcomes'])}, by the payer's "
        f"button: {sum(1 for r in payer_records if r.get('settled_by'))} |",
        "| webhooks delivered | " + (", ".join(f"{k} {v}" for k, v in bank["webhooks"].items()) or "0")
        + f"; undelivered {bank['undelivered']} |",
        "| bookkeeping | " + ", ".join(f"{k} {v}" for k, v in sorted(results.get("bookkeeper", {}).get(
            "bookkeeping", {}).items())) + " |",
        f"| events not applied after {args.drain:.0f} s drain | {len(unapplied)} (Redis: queued "
        f"{redis_state['queued']}, unacked {redis_state['unacked']}) |",
        f"| **lost payments** | **{len(lost)}** |",
        f"| **doubled payments** | **{len(doubled)}** |",
        f"| payments without a confirmed charge | {len(ghost)} |",
        f"| gateway settled/returned, ledger still pending | {len(stalled)} |",
        f"| ACH processing not shown as processing | {len(ach_processing_unseen)} |",
        f"| figures compared on {len(READERS)} contacts' pages | {checker.figures:,} |",
        f"| **mismatches** | **{len(checker.mismatches)}** |",
        f"| check_ledger problems | {len(problems)} |",
        f"| kept account figures wrong in a mid-run snapshot (every 10 s) | {len(stale)} |",
        f"| client errors | {len(client_problems)} |",
    ]
    details = []
    for title, items in (("check_ledger", problems), ("Mismatches", checker.mismatches),
                         ("Kept figures wrong mid-run (first snapshot that showed each)", stale_lines), ("Lost", lost),
                         ("Doubled", doubled), ("Without a charge", ghost), ("Stalled", stalled),
                         ("Events not applied", [" ".join(map(str, e)) for e in unapplied]),
                         ("5xx / connection errors outside the restart windows",
                          [f"t={r[0] - t0:.1f}s {r[2]} {r[3]} {r[4]}" for r in bad_outside]),
                         ("Client errors", client_problems),
                         ("ACH processing not shown", ach_processing_unseen)):
        if items:
            details += ["", f"{title} ({len(items)}):", ""] + [f"- {x}" for x in items[:40]]
            if len(items) > 40:
                details.append(f"- … and {len(items) - 40} more")
    # Which path settled each ACH payment, to tell a kept-figure mismatch's cause (payer's button: the
    # settle_sandbox_payment page; bank: webhook + Celery).
    by_button = {r["token"] for r in payer_records if (r.get("settled_by") or "").startswith("payer")}
    settled = []
    for token, attempt in attempts.items():
        if attempt.method == "ach" and attempt.payment_id and (token in by_button or token in bank["outcomes"]):
            pay = Payment.objects.get(pk=attempt.payment_id)
            hit = sorted(set(pay.allocations.values_list("invoice__customer_id", flat=True)))
            settled.append(f"{pay.number} {pay.status} {pay.amount} payer customer {pay.customer_id}, invoices of "
                           f"customers {hit}: {'payer button' if token in by_button else 'bank webhook + Celery'}")
    details += ["", f"ACH payments settled or returned ({len(settled)}):", ""] + [f"- {x}" for x in settled]
    windows = ", ".join(f"{w} t={s - t0:.1f}–{e - t0:.1f}s" for s, e, w in servers.windows)
    lines += ["", f"Windows: {windows}."] + details
    return {"markdown": "\n".join(lines), "failed": failed}


if __name__ == "__main__":
    sys.exit(main())
