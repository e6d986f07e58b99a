"""Issue 16, headers: a Content-Security-Policy without inline code on every page, private caching for
logged-in pages and PDFs, HSTS in production. Each request is what an outsider's browser would send."""

import os
import secrets
import subprocess
import sys
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import (
    AllocationFactory,
    ContactPersonFactory,
    InvoiceFactory,
    PaymentFactory,
    SalesOrderFactory,
    StaffUserFactory,
)
from tests.test_prod_settings import PROD_ENV

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.fixture
def customer():
    contact = ContactPersonFactory(customer__display_name="Header Test Ltd")
    invoice = InvoiceFactory(customer=contact.customer, number="HDR-INV-1", total=Decimal("90.00"))
    paid = InvoiceFactory(customer=contact.customer, number="HDR-INV-2", total=Decimal("40.00"),
                          balance_due=Decimal("0.00"), status="paid")
    payment = PaymentFactory(customer=contact.customer, number="HDR-PAY-1", amount=Decimal("40.00"),
                             unallocated=Decimal("0.00"))
    AllocationFactory(payment=payment, invoice=paid, amount=Decimal("40.00"))
    order = SalesOrderFactory(customer=contact.customer, number="HDR-SO-1")
    return dict(contact=contact, invoice=invoice, payment=payment, order=order)


@pytest.mark.parametrize("who", ["customer", "anonymous", "staff"])
def test_every_kind_of_page_has_a_policy_without_unsafe_inline_scripts_or_styles(client, customer, who):
    if who == "customer":
        client.force_login(customer["contact"].user)
        url = "/"
    elif who == "staff":
        client.force_login(StaffUserFactory())
        url = reverse("admin:billing_invoice_changelist")
    else:
        url = reverse("account_login")

    response = client.get(url)

    policy = _policy(response)
    assert response.status_code == 200
    assert policy.get("script-src") == ["'self'"]
    assert policy.get("style-src") == ["'self'"]
    assert "'unsafe-inline'" not in policy.get("default-src", []) and policy.get("object-src") == ["'none'"]
    assert policy.get("frame-ancestors") == ["'none'"]


def test_stripe_origins_are_allowed_only_while_stripe_is_configured(client, customer):
    client.force_login(customer["contact"].user)

    with override_settings(STRIPE_PUBLISHABLE_KEY=""):
        without = _policy(client.get("/"))
    with override_settings(STRIPE_PUBLISHABLE_KEY="pk_test_headers"):
        with_stripe = _policy(client.get("/"))

    assert not any("stripe" in source for sources in without.values() for source in sources)
    assert with_stripe["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert "https://api.stripe.com" in with_stripe["connect-src"]
    assert "https://hooks.stripe.com" in with_stripe["frame-src"]


class _InlineCode(HTMLParser):
    """Everything in a page that a policy without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")


def _inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.found


def test_no_portal_or_account_page_carries_inline_script_or_style(client, customer):
    contact = customer["contact"]
    anonymous = {reverse("account_login"): _inline_code(client.get(reverse("account_login")).content.decode()),
                 reverse("account_reset_password"): _inline_code(
                     client.get(reverse("account_reset_password")).content.decode())}
    client.force_login(contact.user)
    checkout = client.post(reverse("portal:pay-outstanding"), {
        "currency": "USD", "method": "card", "invoice": [customer["invoice"].pk],
        f"amount_{customer['invoice'].pk}": "90.00"})["Location"]
    paths = [
        "/", "/invoices/", "/invoices/?tab=outstanding", f"/invoices/{customer['invoice'].pk}/",
        "/retainer-invoices/", "/sales-orders/", f"/sales-orders/{customer['order'].pk}/", "/subscriptions/",
        "/payments/", f"/payments/{customer['payment'].pk}/", "/statement/", "/my-details/", "/documents/",
        "/my-account/", "/pay/", "/pay/methods/", checkout, reverse("account_change_password"),
        reverse("mfa_index"), reverse("account_reauthenticate"),
    ]
    found = dict(anonymous)
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, f"{path} answered {response.status_code}"
        found[path] = _inline_code(response.content.decode())

    assert {path: inline for path, inline in found.items() if inline} == {}


def test_admin_pages_a_bookkeeper_opens_carry_no_inline_script_or_style(client, customer):
    client.force_login(StaffUserFactory())
    invoice, company = customer["invoice"], customer["contact"].customer
    paths = [
        reverse("admin:index"),
        reverse("admin:billing_invoice_changelist"),
        reverse("admin:billing_invoice_change", args=[invoice.pk]),
        reverse("admin:billing_customer_changelist"),
        reverse("admin:billing_customer_change", args=[company.pk]),
        reverse("admin:billing_customer_hierarchy", args=[company.pk]),
        reverse("admin:billing_customer_statement", args=[company.pk]),
        reverse("admin:portal_forwardeddocument_changelist"),
        reverse("admin:reports_report_changelist"),
        reverse("admin:reports_aging"),
        reverse("admin:reports_aging") + f"?parent={company.pk}",
        reverse("admin:reports_balances"),
        reverse("admin:reports_balances") + f"?parent={company.pk}",
        reverse("admin:reports_payments"),
        reverse("admin:reports_groups"),
        reverse("admin:reports_groups") + "?group=none",
    ]
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, f"{path} answered {response.status_code}"
        found[path] = _inline_code(response.content.decode())

    assert {path: inline for path, inline in found.items() if inline} == {}


def test_logged_in_pages_and_pdfs_are_private_and_not_stored(client, customer):
    client.force_login(customer["contact"].user)

    page = client.get(f"/invoices/{customer['invoice'].pk}/")
    pdf = client.get(f"/invoices/{customer['invoice'].pk}/pdf/")

    for response in (page, pdf):
        assert response.status_code == 200
        directives = {d.strip() for d in response.headers["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives
    assert pdf.headers["Content-Type"] == "application/pdf"


def test_static_files_stay_cacheable_for_a_logged_in_user(client, customer):
    client.force_login(customer["contact"].user)

    response = client.get("/static/css/portal.css")

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert "private" not in response.headers.get("Cache-Control", "")


def test_production_settings_pass_the_deploy_check_with_hsts_on():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_", "STRIPE_"))}
    # A secret key with enough distinct characters (security.W009), production settings.
    env.update(PROD_ENV, DJANGO_SETTINGS_MODULE="config.settings.prod", DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)")

    checked = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    hsts = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert hsts.stdout.split() == ["31536000", "True"], hsts.stderr
