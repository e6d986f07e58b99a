"""A worker killed while it holds a webhook's event: a new worker applies it within a minute and a half.

Real processes on Redis DB 11: the first worker takes the event's task and blocks inside it on the
checkout row this test holds, then its whole process group gets SIGKILL (a machine gone, an OOM
kill of the worker). Stripe has had its 200 and will not resend; the message sits unacknowledged
in Redis for the visibility timeout (10 minutes). The re-queue beat of the new worker brings it
back long before that.
"""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import redis
from celery import current_app
from django.db import connection, transaction

from billing.models import CheckoutAttempt, GatewayEvent, Invoice, Payment
from config.celery import app as celery_app
from tests.factories import InvoiceFactory
from tests.fakes.stripe_events import event, payment_intent, signature_header

from .factories import CheckoutAttemptFactory, CheckoutLineFactory

BROKER = "redis://127.0.0.1:6379/11"
SECRET = "whsec_killed_worker_test"
ROOT = Path(__file__).resolve().parents[2]
RECOVERY_BOUND_SECONDS = 90  # beat every 30 s + 30 s grace + a worker's start on a busy machine


def _use_broker(url: str, *, eager: bool) -> None:
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = url, eager
    celery_app._after_fork()  # drop pools that still point at the previous broker


@pytest.fixture
def queued_tasks(settings):
    """Tasks go to Redis DB 11 instead of running in the test process; the DB starts empty."""
    redis.Redis.from_url(BROKER).flushdb()
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    previous_app = current_app._get_current_object()
    celery_app.set_current()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _use_broker(BROKER, eager=False)
    yield
    _use_broker(saved[0], eager=saved[1])
    previous_app.set_current()
    redis.Redis.from_url(BROKER).flushdb()


@pytest.fixture
def start_worker(tmp_path):
    """Start `celery worker` (optionally with its embedded beat) in its own process group."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TEST_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "REDIS_URL": BROKER,
        "STRIPE_SECRET_KEY": "sk_test_unused",
        "STRIPE_WEBHOOK_SECRET": SECRET,
    }
    started = []

    def start(name: str, *, beat: bool = False):
        log_path = tmp_path / f"{name}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "-l",
            "INFO",
            "-n",
            f"{name}@%h",
        ]
        if beat:
            command += ["--beat", "--schedule", str(tmp_path / "beat-schedule")]
        with log_path.open("w") as log:
            process = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        started.append(process)
        return process, lambda: log_path.read_text()[-4000:]

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


@pytest.fixture
def checkout_row_lock():
    """Hold a checkout row from another connection, as a slow transaction would, until released."""
    db = connection.settings_dict
    other = psycopg.connect(
        dbname=db["NAME"], host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"] or None
    )

    def hold(attempt_id: int):
        other.execute("SELECT id FROM billing_checkoutattempt WHERE id = %s FOR UPDATE", [attempt_id])

    yield hold, other.rollback
    other.close()


def _event_row_is_held(event_id: int) -> bool:
    with transaction.atomic():
        return not GatewayEvent.objects.select_for_update(skip_locked=True).filter(pk=event_id).exists()


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_an_event_held_by_a_killed_worker_is_applied_by_the_next_worker_within_the_bound(
    settings, client, queued_tasks, start_worker, checkout_row_lock
):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_unused"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    attempt = CheckoutAttemptFactory(method=Payment.Method.ACH, status=CheckoutAttempt.Status.PROCESSING)
    CheckoutLineFactory(attempt=attempt, invoice=InvoiceFactory(customer=attempt.payer, total=Decimal("100.00")))
    hold_checkout, release_checkout = checkout_row_lock
    hold_checkout(attempt.pk)
    first, first_log = start_worker("first")
    payload = event(
        "payment_intent.succeeded",
        payment_intent(attempt.gateway_intent_id, amount=10000, status="succeeded", kind="us_bank_account"),
    )

    response = client.post(
        "/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature_header(payload, SECRET),
    )
    stored = GatewayEvent.objects.get()
    assert _wait_for(lambda: _event_row_is_held(stored.pk), 60), first_log()  # the worker is inside the task
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    release_checkout()
    restarted_at = time.monotonic()
    _second, second_log = start_worker("second", beat=True)
    applied = _wait_for(
        lambda: GatewayEvent.objects.filter(pk=stored.pk, applied_at__isnull=False).exists(), RECOVERY_BOUND_SECONDS
    )

    assert response.status_code == 200
    assert applied, second_log()
    assert time.monotonic() - restarted_at < RECOVERY_BOUND_SECONDS
    attempt.refresh_from_db()
    assert attempt.status == CheckoutAttempt.Status.SUCCEEDED
    payment = Payment.objects.get()  # recorded once
    assert (payment.status, payment.amount) == (Payment.Status.SUCCEEDED, Decimal("100.00"))
    assert Invoice.objects.get().balance_due == Decimal("0.00")
    assert "Re-queued 1 gateway event" in second_log()  # the beat brought it back, not Redis's timeout
