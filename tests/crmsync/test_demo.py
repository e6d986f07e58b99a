"""The offline demo: `python -m tests.fakes.zoho_server --demo` plus `load_demo_crm()`."""

import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from billing.models import ContactPerson, Customer, Invoice, SalesOrder
from crmsync.demo import load_demo_crm
from crmsync.models import CrmConnection, SyncRun
from crmsync.selectors import demo_crm_contents
from crmsync.services import sync_crm
from tests.factories import StaffUserFactory

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_server():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.zoho_server", "--port", str(port), "--demo"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert "Fake Zoho CRM on" in process.stdout.readline()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def test_load_demo_crm_is_idempotent_and_syncs_against_the_command_line_fake(demo_server, db, settings):
    settings.CRM_DEMO_URL = demo_server
    first = load_demo_crm()
    again = load_demo_crm()
    assert first.pk == again.pk and CrmConnection.objects.count() == 1
    assert again.is_enabled and again.is_configured and again.has_credentials

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert Customer.objects.filter(customer_type=Customer.Type.BUSINESS).count() == 24
    assert Customer.objects.filter(customer_type=Customer.Type.INDIVIDUAL).count() == 4  # orphan contacts
    assert ContactPerson.objects.count() == 48


def test_load_demo_and_the_first_sync_put_the_ledger_and_account_metrics_in_the_demo_crm(
    demo_server, db, settings, client
):
    settings.CRM_DEMO_URL = demo_server
    call_command("load_demo", stdout=io.StringIO())
    connection = CrmConnection.current()
    assert connection.push_transactions and connection.direction == CrmConnection.Direction.BOTH

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.failed == 0, list(run.failures.values_list("record_name", "reason"))
    crm = demo_crm_contents(connection=connection)
    # Both ways: every business customer became a CRM account (individuals became contacts).
    pushed = Invoice.objects.exclude(status="draft").filter(customer__customer_type=Customer.Type.BUSINESS)
    assert sorted(i["subject"] for i in crm["invoices"]) == sorted(pushed.values_list("number", flat=True))
    assert all(invoice["items"] for invoice in crm["invoices"])
    assert {"Paid", "Partially paid", "Overdue", "Sent"} <= {i["status"] for i in crm["invoices"]}
    orders = SalesOrder.objects.exclude(status="draft")
    assert sorted(o["subject"] for o in crm["sales_orders"]) == sorted(orders.values_list("number", flat=True))
    assert all(len(o["items"]) == 2 for o in crm["sales_orders"])
    order = crm["sales_orders"][0]
    head_office = next(a for a in crm["accounts"] if a["name"] == "Northwind Networks")
    assert head_office["outstanding_receivables"] > 0 and head_office["overdue_amount"] > 0

    client.force_login(StaffUserFactory())
    overview = client.get(reverse("admin:crmsync_crmconnection_changelist")).content.decode()
    page = client.get(reverse("admin:crmsync_demo_crm")).content.decode()
    assert 'id="demo-crm-link"' in overview
    assert "Northwind Networks" in page and "Managed network support" in page and order["subject"] in page


def test_the_demo_crm_page_is_only_there_for_the_demo_fake(fake, make_connection, client):
    make_connection()  # a Zoho CRM at another address
    client.force_login(StaffUserFactory())

    overview = client.get(reverse("admin:crmsync_crmconnection_changelist")).content.decode()

    assert 'id="demo-crm-link"' not in overview
    assert client.get(reverse("admin:crmsync_demo_crm")).status_code == 404
