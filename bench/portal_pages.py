"""Portal pages at scale: a parent with 1,000 branches × 200 invoices, served by gunicorn.

    .venv/bin/python bench/seed_portal.py          # once: creates the bench_portal database (~1 min)
    .venv/bin/python bench/portal_pages.py         # query counts, then req/s and p50/p99 per page
    .venv/bin/python bench/portal_pages.py --seconds 10 --port 8103
    .venv/bin/python bench/portal_pages.py --floors --plus-queries 3 6 10   # and the floors (bench/README.md)

Query counts: each page through Django's test client at full scale (bench@portal.example) and for
"Small Co" (one branch, one invoice). Load: gunicorn with 2 sync workers (bench.settings_portal: DEBUG
off, CONN_MAX_AGE 600), 8 client processes on 127.0.0.1 for `--seconds` per case, each page side by side
with its in-memory rendering ceiling (bench/urls_portal.py) and a trivial view.
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

PAGES = {
    "home": "/",
    "invoices": "/invoices/?status=unpaid&sort=due_on",
    "statement": "/statement/?period=custom&start=2026-07-01&end=2026-09-30",
}


def _setup(db: str):
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_portal"
    os.environ.setdefault("REDIS_AVAILABLE", "0")
    import django

    django.setup()


def query_counts() -> list[tuple[str, int, int, int]]:
    """(page, queries at full scale, queries for one branch with one invoice, response bytes at scale)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from billing.models import ContactPerson

    rows = []
    clients = {}
    for who in ("bench@portal.example", "small@portal.example"):
        clients[who] = Client()
        clients[who].force_login(ContactPerson.objects.get(email=who).user)
    for name, url in PAGES.items():
        counts, size = [], 0
        for who, client in clients.items():
            client.get(url)  # session and caches warm
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, (name, who, response.status_code)
            counts.append(len(queries))
            size = size or len(response.content)
        rows.append((name, counts[0], counts[1], size))
    return rows


def session_cookie() -> str:
    from django.conf import settings
    from django.test import Client

    from billing.models import ContactPerson

    client = Client()
    client.force_login(ContactPerson.objects.get(email="bench@portal.example").user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _client(args) -> list[float]:
    """One client process: GET `path` back to back until `stop_at` (time.time()); its latencies."""
    host, port, path, cookie, stop_at = args
    import http.client

    latencies = []
    while time.time() < stop_at:
        started = time.perf_counter()
        connection = http.client.HTTPConnection(host, port, timeout=30)  # gunicorn sync: one request each
        connection.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
        response = connection.getresponse()
        response.read()
        connection.close()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status}")
    return latencies


def load(base: str, path: str, cookie: str, *, seconds: float, clients: int = 8) -> dict:
    """`clients` processes (no shared GIL), each requesting `path` back to back for `seconds`."""
    import multiprocessing

    host, port = base.removeprefix("http://").split(":")
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        parts = pool.map(_client, [(host, int(port), path, cookie, time.time() + seconds)] * clients)
    elapsed = time.perf_counter() - started
    latencies = sorted(x for part in parts for x in part)
    return {"rps": len(latencies) / elapsed, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, "n": len(latencies)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="bench_portal")
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--pages", nargs="+", choices=list(PAGES), default=list(PAGES),
                        help="measure only these pages (default: all)")
    parser.add_argument("--plus-queries", nargs="*", type=int, default=[],
                        help="also serve each ceiling plus N primary-key lookups (floor of a page reading N things)")
    parser.add_argument("--floors", action="store_true",
                        help="also serve the home ceiling plus only its balance summary reads")
    args = parser.parse_args()
    for name in set(PAGES) - set(args.pages):
        del PAGES[name]
    _setup(args.db)

    print(f"{'page':10} {'queries at scale':>17} {'queries 1 branch/1 invoice':>27} {'HTML KB':>8}")
    for name, big, small, size in query_counts():
        print(f"{name:10} {big:>17} {small:>27} {size / 1024:>8.0f}")

    cookie = session_cookie()
    from django.db import connections

    connections.close_all()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{args.port}",
         "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings_portal"})
    base = f"http://127.0.0.1:{args.port}"
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"{base}/bench/trivial/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        cases = [("trivial view", "/bench/trivial/")]
        for name, url in PAGES.items():
            ceiling = url.replace("/", f"/bench/ceiling/{name}/", 1) if name == "home" else \
                f"/bench/ceiling/{name}/?{url.split('?', 1)[1]}"
            cases += [(name, url), (f"{name} in-memory ceiling", ceiling)]
            if name == "home" and args.floors:
                cases.append(("home ceiling + balance summary", "/bench/ceiling/home/plus/balance-summary/"))
            for n in args.plus_queries:
                path, _, query = ceiling.partition("?")
                cases.append((f"{name} ceiling + {n} queries", f"{path}plus/{n}/" + (f"?{query}" if query else "")))
        for _label, url in cases:  # warm both workers: connections, templates, captured contexts
            load(base, url, cookie, seconds=1, clients=4)
        results = {label: load(base, url, cookie, seconds=args.seconds) for label, url in cases}
    finally:
        server.terminate()
        server.wait()

    trivial = results["trivial view"]["rps"]
    print(f"\n{'case':28} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'requests':>9} {'of ceiling':>10} "
          f"{'of trivial':>10}")
    for label, r in results.items():
        name = label.split(" ")[0]
        of_ceiling = f"{r['rps'] / results[f'{name} in-memory ceiling']['rps']:.0%}" if name in PAGES and \
            "in-memory ceiling" not in label else ""
        print(f"{label:28} {r['rps']:>8.0f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['n']:>9} {of_ceiling:>10} "
              f"{r['rps'] / trivial:>10.1%}")


if __name__ == "__main__":
    main()
