"""The sync task under a real Celery worker process, with Redis as the broker."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from billing.models import Customer
from crmsync.models import SyncRun

BROKER = "redis://127.0.0.1:6379/5"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_sync_task_runs_in_a_real_worker(fake, make_connection, tmp_path):
    fake.add_account("Worker Co")
    make_connection()
    queue = f"crmsync-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TEST_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "REDIS_URL": BROKER,
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
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
        sender = Celery(broker=BROKER, set_as_current=False)  # later tests publish through the project app
        sender.send_task("crmsync.tasks.sync_crm_task", kwargs={"trigger": "instant"}, queue=queue)
        deadline = time.monotonic() + 60
        run = None
        while time.monotonic() < deadline and worker.poll() is None:
            run = SyncRun.objects.exclude(status=SyncRun.Status.RUNNING).first()
            if run:
                break
            time.sleep(0.2)
        assert run is not None, (tmp_path / "worker.log").read_text()[-3000:]
        assert run.status == SyncRun.Status.SUCCEEDED, run.message
        assert Customer.objects.filter(display_name="Worker Co", origin=Customer.Origin.CRM).exists()
    finally:
        worker.terminate()
        worker.wait(15)
        log.close()
