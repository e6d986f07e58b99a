"""Back-office search and the hierarchy page at scale: 1,000 branches × 200 invoices (bench/seed_portal.py).

    .venv/bin/python bench/admin_search.py                 # median and p95 of 20 requests per case
    .venv/bin/python bench/admin_search.py --requests 50 --db bench_portal

One client (Django's test client, in process, DEBUG off: bench.settings_portal) logged in as a staff user
created for the run and deleted after it; the seeded data is only read. Each case is requested once to warm
the session and caches, then timed; "SQL ms" is the median of the time spent in the database per request (the
rest is Python: the admin renders a row of 100 in about 0.5 ms); the query count and the response size are those
of the last request.
"""

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path and not os.environ.get("BENCH_CODE_FROM_PYTHONPATH"):
    sys.path.insert(0, str(ROOT))  # BENCH_CODE_FROM_PYTHONPATH=1 PYTHONPATH=/other/checkout: time its code

STAFF_USERNAME = "bench-admin-search"


def cases() -> dict[str, str]:
    from billing.models import Customer, Invoice, Payment

    holdings = Customer.objects.get(display_name="Bench Holdings")
    branch = Customer.objects.filter(parent=holdings).order_by("display_name")[420]
    invoice = Invoice.objects.filter(customer=branch).order_by("pk").first()
    payment = Payment.objects.filter(customer=branch).order_by("pk").first()
    fragment = branch.display_name[2:]  # "anch 0421": a name fragment, not a prefix
    return {
        "invoice list, no search": "/admin/billing/invoice/",
        "invoice, exact number": f"/admin/billing/invoice/?q={invoice.number.lower()}",
        'invoice, "INV"': "/admin/billing/invoice/?q=INV",
        "invoice, customer name fragment": f"/admin/billing/invoice/?q={fragment}",
        "payment, exact number": f"/admin/billing/payment/?q={payment.number}",
        "payment, customer name fragment": f"/admin/billing/payment/?q={fragment}",
        "customer, name fragment": f"/admin/billing/customer/?q={fragment}",
        "hierarchy, Bench Holdings": f"/admin/billing/customer/{holdings.pk}/hierarchy/",
    }


def measure(requests: int) -> list[tuple[str, float, float, float, int, int, int]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    user_model = get_user_model()
    user_model.objects.filter(username=STAFF_USERNAME).delete()
    staff = user_model.objects.create_superuser(STAFF_USERNAME, "bench-admin@example.com", None)
    rows = []
    try:
        with override_settings(STAFF_MFA_REQUIRED=False):  # as in tests: no TOTP device for a bench login
            client = Client()
            client.force_login(staff)
            for name, url in cases().items():
                client.get(url)
                timings, sql = [], []
                for _ in range(requests):
                    with CaptureQueriesContext(connection) as queries:
                        started = time.perf_counter()
                        response = client.get(url)
                        timings.append((time.perf_counter() - started) * 1000)
                    sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
                    assert response.status_code == 200, (name, response.status_code)
                p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
                shown = re.search(rb'class="small quiet">(\d+) results?', response.content)
                found = int(shown.group(1)) if shown else -1
                rows.append(
                    (
                        name,
                        statistics.median(timings),
                        p95,
                        statistics.median(sql),
                        len(queries),
                        len(response.content),
                        found,
                    )
                )
    finally:
        user_model.objects.filter(username=STAFF_USERNAME).delete()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="bench_portal")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_portal"
    os.environ.setdefault("REDIS_AVAILABLE", "0")
    import django

    django.setup()
    print(f"{'case':34} {'median ms':>10} {'p95 ms':>8} {'SQL ms':>7} {'queries':>8} {'KB':>7} {'results':>8}")
    for name, median, p95, sql, count, size, found in measure(args.requests):
        shown = "" if found < 0 else found
        print(f"{name:34} {median:10.1f} {p95:8.1f} {sql:7.1f} {count:8d} {size / 1024:7.1f} {shown!s:>8}")


if __name__ == "__main__":
    main()
