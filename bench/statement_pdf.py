"""Statement PDF benchmark: naive one-table render vs the portal's statement renderer (portal/pdf/statement.py).

    .venv/bin/python bench/statement_pdf.py            # 1,000 lines side by side + 10,000 lines
    .venv/bin/python bench/statement_pdf.py --repeat 5 # more alternating runs of the 1,000-line pair
    .venv/bin/python bench/statement_pdf.py --lines 1000 --mode naive   # one measurement (used internally)

Every measurement runs in a fresh process, so its peak RSS is its own; the peak RSS of its children is
printed too (the renderer starts none: WeasyPrint's library search at import runs ldconfig and gcc, in
both modes). The 1,000-line pair runs naive, portal, naive, portal, … and the best CPU time (this
process + its children) and the best wall time of each are compared (the machine is shared: the best
run is the one least disturbed). Output PDFs go to /tmp/bench-statement-<mode>-<lines>.pdf (look at them
with `pdftoppm -png -r 80`). No database: the statement is built in memory from the selector's own
dataclasses.
"""

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAIVE = """{% load portal %}<!doctype html><html><head><meta charset="utf-8"><style>
@page { size: A4; margin: 18mm 16mm 20mm 16mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt; } }
body { font: 9pt Helvetica, Arial, sans-serif; } table { width: 100%; border-collapse: collapse; }
th, td { padding: 3pt 5pt; border-bottom: .4pt solid #ddd; text-align: left; } .num { text-align: right; }
thead { display: table-header-group; }
</style></head><body><h1>Statement of accounts</h1><p>{{ statement.start }} – {{ statement.end }}</p>
<table><thead><tr><th>Date</th><th>Transaction</th><th>Details</th><th class="num">Amount</th>
<th class="num">Payments</th><th class="num">Balance</th></tr></thead><tbody>
{% for l in statement.lines %}<tr><td>{{ l.date|date:"d/m/Y" }}</td><td>{{ l.kind_label }} {{ l.number }}</td>
<td>{{ l.description }}</td><td class="num">{% if l.debit %}{{ l.debit|money:statement.currency }}{% endif %}</td>
<td class="num">{% if l.credit %}{{ l.credit|money:statement.currency }}{% endif %}</td>
<td class="num">{{ l.balance|money:statement.currency }}</td></tr>{% endfor %}
</tbody></table></body></html>"""


def make_statement(lines: int, branches: int = 4):
    from billing.selectors.statements import CustomerStatement, LineKind, Statement, StatementLine

    start = dt.date(2026, 1, 1)
    balance, rows, debits, credits = Decimal("0.00"), [], Decimal("0.00"), Decimal("0.00")
    for i in range(lines):
        on = start + dt.timedelta(days=i * 365 // max(lines, 1))
        customer = i % branches
        if i % 3 == 2:
            amount, kind = Decimal("250.00") + i % 7, LineKind.PAYMENT
            debit, credit, text = Decimal("0.00"), amount, f"Payment PAY-{i:05d} by Bank transfer (ref. ACH-{i})"
        else:
            amount, kind = Decimal("180.25") + i % 11, LineKind.INVOICE
            debit, credit, text = amount, Decimal("0.00"), f"Invoice INV-{i:05d}, due {on + dt.timedelta(30):%Y-%m-%d}"
        balance += debit - credit
        debits += debit
        credits += credit
        rows.append(StatementLine(on, kind, f"X-{i:05d}", text, customer, f"Branch {customer}", debit, credit,
                                  balance))
    sections = []
    for c in range(branches):
        own = [r for r in rows if r.customer_id == c]
        charged, paid = sum((r.debit for r in own), Decimal("0.00")), sum((r.credit for r in own), Decimal("0.00"))
        sections.append(CustomerStatement(c, f"Branch {c}", "USD", Decimal("0.00"), own, charged, paid, charged - paid))
    return Statement(start=start, end=dt.date(2026, 12, 31), currency="USD", opening_balance=Decimal("0.00"),
                     lines=rows, total_debits=debits, total_credits=credits, closing_balance=balance,
                     sections=sections)


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(lines: int, mode: str) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("REDIS_AVAILABLE", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.template import engines

    from portal.pdf import html_to_pdf, render_statement_pdf

    statement = make_statement(lines)
    organisation = SimpleNamespace(name="Acme Networks", address="500 Market Street\nSan Francisco, CA 94105",
                                   email="billing@acme.example", phone="+1 415 555 0100", tax_id="", logo=None)
    customer = SimpleNamespace(pk=-1, display_name="Northwind Holdings", company_name="Northwind Holdings",
                               billing_address="1 Harbour Road\nSeattle, WA")
    started = time.perf_counter()
    cpu_started = _cpu_seconds()
    if mode == "naive":
        pdf = html_to_pdf(engines["django"].from_string(NAIVE).render({"statement": statement}))
    else:
        pdf = render_statement_pdf({"statement": statement, "customer": customer, "organisation": organisation,
                                    "logo": ""})
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_started
    Path(f"/tmp/bench-statement-{mode}-{lines}.pdf").write_bytes(pdf)
    import io

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    return {"mode": mode, "lines": lines, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "pages": pages,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "peak_child_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}


def run(lines: int, mode: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--lines", str(lines), "--mode", mode],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int)
    parser.add_argument("--mode", choices=["naive", "portal"])
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of the 1,000-line pair")
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(measure(args.lines, args.mode)))
        return
    runs = {"naive": [], "portal": []}
    for _ in range(args.repeat):
        for mode in runs:
            runs[mode].append(run(1000, mode))
    load = os.getloadavg()[0]
    big = run(10000, "portal")
    print(f"load average before the 10,000-line run: {load:.1f} (2 cores)")
    print(f"{'case':32} {'CPU s (all runs)':>24} {'wall s (all runs)':>26} {'pages':>6} {'RSS MB':>7} "
          f"{'children MB':>12}")
    for label, every in (("1,000 lines, naive one table", runs["naive"]),
                         ("1,000 lines, portal renderer", runs["portal"]), ("10,000 lines, portal renderer", [big])):
        cpu = " ".join(str(x["cpu_seconds"]) for x in every)
        wall = " ".join(str(x["seconds"]) for x in every)
        print(f"{label:32} {cpu:>24} {wall:>26} {every[0]['pages']:>6} {max(x['peak_rss_mb'] for x in every):>7} "
              f"{max(x['peak_child_rss_mb'] for x in every):>12}")
    best = {mode: (min(x["cpu_seconds"] for x in runs[mode]), min(x["seconds"] for x in runs[mode])) for mode in runs}
    print(f"speed-up at 1,000 lines, best CPU time: {best['naive'][0] / best['portal'][0]:.2f}x; "
          f"best wall time: {best['naive'][1] / best['portal'][1]:.2f}x")


if __name__ == "__main__":
    main()
