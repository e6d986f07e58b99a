"""Production settings refuse to start without their secrets, and never pay through the sandbox."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "billing.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "CRM_ENCRYPTION_KEY": "hJ0m5l5Yb0oYb2bX0l3m7m1q8y6Zk2p4c9t1w3e5r7s=",
    "STRIPE_SECRET_KEY": "sk_live_x",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
    "AWS_STORAGE_BUCKET_NAME": "billing-documents",
}


def _load_prod_settings(code="from django.conf import settings; print(settings.PAYMENT_GATEWAY)",
                        **overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in PROD_ENV and k not in ("PAYMENT_GATEWAY", "DOCUMENTS_STORAGE")}
    env.update({**PROD_ENV, **overrides, "DJANGO_SETTINGS_MODULE": "config.settings.prod"})
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_production_pays_through_stripe_even_if_told_sandbox():
    loaded = _load_prod_settings(PAYMENT_GATEWAY="sandbox")

    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "stripe"


def test_production_without_stripe_keys_does_not_start():
    loaded = _load_prod_settings(STRIPE_SECRET_KEY=None)

    assert loaded.returncode != 0
    assert "STRIPE_SECRET_KEY" in loaded.stderr


def test_production_without_the_crm_encryption_key_does_not_start():
    loaded = _load_prod_settings(CRM_ENCRYPTION_KEY=None)

    assert loaded.returncode != 0
    assert "CRM_ENCRYPTION_KEY" in loaded.stderr


DOCUMENTS_BACKEND = "from django.conf import settings; print(settings.STORAGES['documents']['BACKEND'])"


def test_production_keeps_documents_in_a_private_s3_bucket():
    loaded = _load_prod_settings(DOCUMENTS_BACKEND)

    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "storages.backends.s3.S3Storage"


def test_production_without_a_documents_bucket_does_not_start():
    loaded = _load_prod_settings(DOCUMENTS_BACKEND, AWS_STORAGE_BUCKET_NAME=None)

    assert loaded.returncode != 0
    assert "AWS_STORAGE_BUCKET_NAME" in loaded.stderr


def test_a_single_production_node_may_keep_documents_in_a_private_directory():
    loaded = _load_prod_settings(DOCUMENTS_BACKEND, DOCUMENTS_STORAGE="local", AWS_STORAGE_BUCKET_NAME=None)

    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "portal.documents.PrivateFileSystemStorage"
