"""A signed webhook queued for a real Celery worker process (Redis DB 13), not run eagerly."""

import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from celery import current_app
from django.db import connection

from billing.models import GatewayEvent, Invoice, Payment
from config.celery import app as celery_app
from tests.factories import InvoiceFactory
from tests.fakes.stripe_events import event, payment_intent, signature_header

from .factories import CheckoutAttemptFactory, CheckoutLineFactory

BROKER = "redis://127.0.0.1:6379/13"
SECRET = "whsec_worker_test"
ROOT = Path(__file__).resolve().parents[2]


def _use_broker(url: str, *, eager: bool) -> None:
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = url, eager
    # Pools made earlier in this process still point at the old broker; Celery's own reset after a
    # fork drops them, so the next publish connects to `url`.
    celery_app._after_fork()


@pytest.fixture
def queued_tasks(settings):
    """Tasks go to Redis DB 13 instead of running in the test process; the DB starts empty."""
    redis.Redis.from_url(BROKER).flushdb()  # no message from an earlier run points at this run's rows
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    previous_app = current_app._get_current_object()
    # shared_task publishes through the *current* app; another test may have made its own Celery() current.
    celery_app.set_current()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _use_broker(BROKER, eager=False)
    yield
    _use_broker(saved[0], eager=saved[1])
    previous_app.set_current()


@pytest.fixture
def worker(tmp_path):
    """`celery worker` in its own process, on the pytest database and broker DB 13."""
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
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
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
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield lambda: log_path.read_text()[-3000:]
        finally:
            process.terminate()
            process.wait(15)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_signed_webhook_is_applied_by_a_real_worker_and_records_the_payment(settings, client, queued_tasks, worker):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_unused"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    attempt = CheckoutAttemptFactory(amount=Decimal("100.00"))
    CheckoutLineFactory(attempt=attempt, invoice=InvoiceFactory(customer=attempt.payer, total=Decimal("100.00")))
    payload = event(
        "payment_intent.succeeded", payment_intent(attempt.gateway_intent_id, amount=10000, status="succeeded")
    )

    response = client.post(
        "/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature_header(payload, SECRET),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not GatewayEvent.objects.filter(applied_at__isnull=False).exists():
        time.sleep(0.2)

    assert response.status_code == 200
    applied = GatewayEvent.objects.filter(applied_at__isnull=False).first()
    assert applied is not None, worker()
    payment = Payment.objects.get()
    assert (payment.status, payment.amount, applied.payment_id) == ("succeeded", Decimal("100.00"), payment.pk)
    assert Invoice.objects.get().balance_due == Decimal("0.00")
    assert "Task billing.record_gateway_event_task" in worker()  # applied there, not in this process
