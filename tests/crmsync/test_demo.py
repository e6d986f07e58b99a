"""The offline demo: `python -m tests.fakes.zoho_server --demo` plus `load_demo_crm()`."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from billing.models import ContactPerson, Customer
from crmsync import demo
from crmsync.demo import load_demo_crm
from crmsync.models import CrmConnection, SyncRun
from crmsync.services import sync_crm

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


def test_load_demo_crm_is_idempotent_and_syncs_against_the_command_line_fake(demo_server, db, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_URL", demo_server)
    first = load_demo_crm()
    again = load_demo_crm()
    assert first.pk == again.pk and CrmConnection.objects.count() == 1
    assert again.is_enabled and again.is_configured and again.has_credentials

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert Customer.objects.filter(customer_type=Customer.Type.BUSINESS).count() == 24
    assert Customer.objects.filter(customer_type=Customer.Type.INDIVIDUAL).count() == 4  # orphan contacts
    assert ContactPerson.objects.count() == 48
