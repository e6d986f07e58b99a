"""Two web nodes share nothing but the services.

Two gunicorn processes on two free ports, over the same PostgreSQL database (this test's), the same Redis
(DB 8, as the cache) and the same S3-compatible object store (moto in server mode), configured from the
environment as production is. What one node does holds on the other: an uploaded document, a session,
a login lockout. Nothing is shared through a process or a disk.
"""

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from portal.models import SharedDocument
from tests.factories import PORTAL_PASSWORD, ContactPersonFactory
from tests.security.object_store import moto_server, new_bucket, s3_client, storage_env

# One xdist worker runs both tests, so the nodes start once (make test runs with --dist loadgroup).
pytestmark = [pytest.mark.two_nodes, pytest.mark.xdist_group("two_nodes"), pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/8"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + uuid.uuid4().hex.encode()
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REFUSED = re.compile(r"too many", re.IGNORECASE)
# Both nodes answer for one site, as behind a load balancer (allauth's lockout key names the site's host).
HOST = "billing.example"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _node_env(storage: dict[str, str]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_", "DATABASE", "REDIS"))}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_SECRET_KEY": "two-nodes-" + "x" * 40,
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": f"{HOST},127.0.0.1",
        "DATABASE_URL": _database_url(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": REDIS_URL,
        "REDIS_AVAILABLE": "1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOG_LEVEL": "WARNING",
        **storage,
    }


def _start_node(stack: ExitStack, env: dict[str, str]) -> str:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--timeout", "60", "--graceful-timeout", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    stack.callback(_stop, process)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn on {port} exited: {process.stderr.read().decode()[-3000:]}")
        try:
            if httpx.get(f"{url}/accounts/login/", timeout=2).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"gunicorn on {port} did not answer within 45 s")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def nodes(django_db_setup, django_db_blocker):
    """Two gunicorn nodes over the test database, Redis DB 8 and one moto S3 bucket (for this module)."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    with ExitStack() as stack:
        endpoint = stack.enter_context(moto_server())
        bucket = new_bucket(endpoint)
        with django_db_blocker.unblock():
            env = _node_env(storage_env(endpoint, bucket))
        a, b = _start_node(stack, env), _start_node(stack, env)
        yield {"a": a, "b": b, "s3": s3_client(endpoint), "bucket": bucket}
    redis.Redis.from_url(REDIS_URL).flushdb()


def _contact():
    """A portal contact whose password the nodes' own hashers can check (the tests hash with MD5)."""
    contact = ContactPersonFactory()
    contact.user.password = PBKDF2PasswordHasher().encode(PORTAL_PASSWORD, uuid.uuid4().hex, iterations=1000)
    contact.user.save(update_fields=["password"])
    return contact


def _csrf(client: httpx.Client, path: str) -> str:
    return CSRF_INPUT.search(client.get(path).text).group(1)


def _log_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    token = _csrf(client, "/accounts/login/")
    return client.post("/accounts/login/", data={"login": email, "password": password,
                                                 "csrfmiddlewaretoken": token})


def test_a_document_and_a_session_made_on_one_node_hold_on_the_other(nodes):
    contact = _contact()
    with httpx.Client(base_url=nodes["a"], headers={"Host": HOST}, timeout=30) as a:
        assert _log_in(a, contact.email, PORTAL_PASSWORD).status_code == 302
        upload = a.post(
            "/documents/",
            data={"csrfmiddlewaretoken": _csrf(a, "/documents/")},
            files={"files": ("po.pdf", PDF_BYTES, "application/pdf")},
        )
        assert upload.status_code == 302, upload.text[-2000:]
        session = a.cookies["sessionid"]

    document = SharedDocument.objects.get()
    keys = [item["Key"] for item in nodes["s3"].list_objects_v2(Bucket=nodes["bucket"])["Contents"]]
    assert keys == [document.file.name]

    with httpx.Client(base_url=nodes["b"], headers={"Host": HOST}, cookies={"sessionid": session},
                      timeout=30) as b:
        home = b.get("/")
        download = b.get(f"/documents/{document.pk}/download/")

    assert home.status_code == 200 and contact.customer.display_name in home.text
    assert download.status_code == 200 and download.content == PDF_BYTES
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment")


def test_a_login_lockout_made_on_one_node_holds_on_the_other(nodes):
    contact = _contact()
    with httpx.Client(base_url=nodes["a"], headers={"Host": HOST}, timeout=30) as a:
        for _attempt in range(30):
            answer = _log_in(a, contact.email, "wrong password")
            assert answer.status_code != 302
            if REFUSED.search(answer.text):
                break
        else:
            pytest.fail("node A never refused further attempts")

    with httpx.Client(base_url=nodes["b"], headers={"Host": HOST}, timeout=30) as b:
        answer = _log_in(b, contact.email, "another wrong password")

    assert answer.status_code != 302 and REFUSED.search(answer.text), answer.text[-2000:]
