"""Back-office reports at scale: each report's first page at 1,000 branches x 200 invoices, single client.

    .venv/bin/python bench/seed_portal.py      # once: creates the bench_portal database (~1 min)
    .venv/bin/python bench/reports.py          # migrates bench_portal (new apps), then times every case
    .venv/bin/python bench/reports.py --requests 20 --db bench_portal

Each case is a GET of a report page through Django's test client as a superuser (the admin's own
middleware, session and permission checks), DEBUG off: 3 warm-up requests, then `--requests` timed ones;
it prints the median and the 95th percentile in ms, the SQL query count of one request, and the same count
for the small customer "Small Co" (one branch) where a case names a parent, so a count that grows with the
branches shows. A new report adds its cases to CASES.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (label, URL name, query; "{root}" / "{small}" are the big and the small parent's ids)
CASES = [
    ("aging, top level, today", "admin:reports_aging", ""),
    ("aging, Bench Holdings' 1,000 branches, today", "admin:reports_aging", "parent={root}"),
    ("aging, Bench Holdings' branches as of 30 Sep 2026", "admin:reports_aging", "parent={root}&as_of=2026-09-30"),
    ("aging, CSV of the 1,000 branches", "admin:reports_aging", "parent={root}&format=csv"),
    ("balances, top level, this month", "admin:reports_balances", ""),
    ("balances, Bench Holdings' branches, this month", "admin:reports_balances", "parent={root}"),
    ("balances, Bench Holdings' branches, 1 Jan–30 Sep", "admin:reports_balances",
     "parent={root}&start=2026-01-01&end=2026-09-30"),
    ("balances, CSV of the branches, 15 Feb–14 Aug", "admin:reports_balances",
     "parent={root}&start=2026-02-15&end=2026-08-14&format=csv"),
    ("payments, this month", "admin:reports_payments", ""),
    ("payments, 1 Jan–30 Sep 2026", "admin:reports_payments", "start=2026-01-01&end=2026-09-30"),
    ("payments, 1 Jan–30 Sep 2026, largest, page 20", "admin:reports_payments",
     "start=2026-01-01&end=2026-09-30&sort=amount&page=20"),
    ("payments, CSV of 1 Jan–30 Sep 2026", "admin:reports_payments", "start=2026-01-01&end=2026-09-30&format=csv"),
    ("groups, this month so far", "admin:reports_groups", ""),
    ("groups, Sep-Nov 2026 vs the 91 days before", "admin:reports_groups", "start=2026-09-01&end=2026-11-30"),
    ("groups, members of no group (1,001), Sep-Nov 2026", "admin:reports_groups",
     "group=none&start=2026-09-01&end=2026-11-30"),
    ("groups, CSV of the no-group members", "admin:reports_groups",
     "group=none&start=2026-09-01&end=2026-11-30&format=csv"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="bench_portal")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_portal"
    os.environ.setdefault("REDIS_AVAILABLE", "0")
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, check=True)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from billing.models import Customer

    user, _ = get_user_model().objects.get_or_create(username="bench-staff", defaults={
        "email": "bench-staff@example.com", "is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(user)
    ids = {"root": Customer.objects.get(display_name="Bench Holdings").pk,
           "small": Customer.objects.get(display_name="Small Co").pk}

    print(f"{'case':52} {'median ms':>9} {'p95 ms':>7} {'queries':>7} {'small':>5} {'KB':>6}")
    for label, name, query in CASES:
        url = reverse(name) + ("?" + query.format(**ids) if query else "")
        for _ in range(3):
            _read(client.get(url))
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(url)
            size = len(_read(response))
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            _read(client.get(url))
        small = ""
        if "{root}" in query:
            with CaptureQueriesContext(connection) as small_queries:
                _read(client.get(reverse(name) + "?" + query.replace("{root}", "{small}").format(**ids)))
            small = len(small_queries)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{label:52} {statistics.median(times):>9.0f} {p95:>7.0f} {len(queries):>7} {small!s:>5} "
              f"{size / 1024:>6.0f}")


def _read(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


if __name__ == "__main__":
    main()
