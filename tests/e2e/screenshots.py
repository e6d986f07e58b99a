"""Screenshots of the portal as the demo head-office contact sees it (the README's docs/screenshots/).

    .venv/bin/python -m tests.e2e.screenshots --base-url http://127.0.0.1:8000            # README images
    .venv/bin/python -m tests.e2e.screenshots --base-url http://127.0.0.1:8000 --every-page --out /tmp/shots

Run against a server with the demo data (`make run`, or `manage.py load_demo` then `runserver`). The README
names are kept: home-desktop, home-phone, invoices-desktop, invoices-phone, invoice-detail, statement,
statement-phone, payments. With --every-page, every portal page at 1280 and 390 pixels wide, for review.
"""

import argparse
import re
from pathlib import Path

from tests.conftest import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
DEMO_LOGIN = ("hannah.reed@northwind.example", "northwind-portal-2026")
PAGES = {
    "home": "/",
    "invoices": "/invoices/",
    "invoices-outstanding": "/invoices/?tab=outstanding",
    "invoice-detail": None,  # the first invoice of the list
    "retainers": "/retainer-invoices/",
    "sales-orders": "/sales-orders/?tab=all",
    "subscriptions": "/subscriptions/",
    "payments": "/payments/",
    "payment-detail": None,  # the first payment of the list
    "statement": "/statement/?period=this_year",
    "my-details": "/my-details/",
    "documents": "/documents/",
    "my-account": "/my-account/",
    "pay": "/pay/",
}
README = [("home", 1280, "home-desktop"), ("home", 390, "home-phone"), ("invoices", 1280, "invoices-desktop"),
          ("invoices", 390, "invoices-phone"), ("invoice-detail", 1280, "invoice-detail"),
          ("statement", 1280, "statement"), ("statement", 390, "statement-phone"), ("payments", 1280, "payments")]


def _first_link(page, base: str, list_path: str, pattern: str) -> str:
    page.goto(base + list_path)
    hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.getAttribute('href'))")
    for href in hrefs:
        if re.fullmatch(rf"{pattern}\d+/", href):
            return href
    raise SystemExit(f"no link like {pattern}<id>/ on {list_path}")


def take(base: str, out: Path, *, every_page: bool, email: str, password: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width in (1280, 390):
            context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base}/")
            paths = dict(PAGES)
            paths["invoice-detail"] = _first_link(page, base, "/invoices/", "/invoices/")
            paths["payment-detail"] = _first_link(page, base, "/payments/", "/payments/")
            wanted = [(name, f"{name}-{'desktop' if width == 1280 else 'phone'}") for name in paths] if every_page \
                else [(name, file) for name, w, file in README if w == width]
            for name, file in wanted:
                response = page.goto(base + paths[name])
                if response is None or response.status != 200:
                    raise SystemExit(f"{paths[name]} answered {response and response.status}")
                target = out / f"{file}.png"
                page.screenshot(path=str(target), full_page=True)
                written.append(target)
            context.close()
        browser.close()
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000 (demo data loaded)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--every-page", action="store_true", help="every page at both widths, for review")
    parser.add_argument("--email", default=DEMO_LOGIN[0])
    parser.add_argument("--password", default=DEMO_LOGIN[1])
    args = parser.parse_args()
    for path in take(args.base_url.rstrip("/"), args.out, every_page=args.every_page, email=args.email,
                     password=args.password):
        print(path)


if __name__ == "__main__":
    main()
