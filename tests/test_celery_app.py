"""The Celery app in config/ knows every task a worker must run, beat's included."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# What a worker does at start, in a fresh process: tasks imported by other tests in this
# process would otherwise hide a task that autodiscovery misses.
_LIST_TASKS = (
    "import django; django.setup(); from config.celery import app; "
    "app.loader.import_default_modules(); print('\\n'.join(sorted(app.tasks)))"
)


@pytest.fixture(scope="module")
def worker_task_names() -> set[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    out = subprocess.run([sys.executable, "-c", _LIST_TASKS], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=60)
    return set(out.stdout.split())


def test_a_worker_registers_the_webhook_subscription_and_crm_tasks(worker_task_names):
    assert "billing.record_gateway_event_task" in worker_task_names
    assert "billing.tasks.generate_due_subscription_invoices_task" in worker_task_names
    assert "crmsync.tasks.sync_crm_task" in worker_task_names


def test_every_beat_entry_points_at_a_task_a_worker_knows(worker_task_names):
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= worker_task_names


def test_every_task_is_acknowledged_late_and_a_dead_worker_s_task_comes_back_within_minutes():
    from config.celery import app

    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}

    assert ours and all(task.acks_late and task.reject_on_worker_lost for task in ours.values())
    assert app.conf.worker_prefetch_multiplier == 1
    assert 60 <= app.conf.broker_transport_options["visibility_timeout"] <= 30 * 60  # Redis's default is an hour
