"""Long statement PDFs are built by a task, never in the web process: asked for, followed, downloaded by the
contact who asked (and nobody else), emailed if asked, expired; short ones still download at once."""

import ast
import datetime as dt
import io
import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from portal.documents import document_storage
from portal.models import StatementPdf
from portal.services.statements import build_statement_pdf, expire_statement_pdfs, request_statement_pdf
from tests.factories import ContactPersonFactory, InvoiceFactory, PaymentFactory

ROOT = Path(__file__).resolve().parents[2]
PERIOD = {"period": "custom", "start": "2026-01-01", "end": "2026-12-31"}


def _ledger(customer, invoices: int):
    for i in range(invoices):
        InvoiceFactory(customer=customer, number=f"LONG-{i:04d}", total=Decimal("10.00"),
                       issued_on=dt.date(2026, 1, 1) + timedelta(days=i % 300))
    PaymentFactory(customer=customer, number="LONG-PAY", paid_on=dt.date(2026, 6, 1), amount=Decimal("25.00"))


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def long_statement(head_office, settings):
    settings.STATEMENT_PDF_INLINE_MAX_LINES = 20
    _ledger(head_office["shared"], 30)
    return head_office


@pytest.mark.django_db(transaction=True)
def test_a_long_statement_is_built_by_the_task_after_the_commit_and_downloaded_from_its_page(client, long_statement):
    client.force_login(long_statement["contact"].user)

    response = client.post(reverse("portal:statement-pdf"), PERIOD)

    statement_pdf = StatementPdf.objects.get()
    assert response.status_code == 302 and response.url == reverse("portal:statement-pdf-status",
                                                                    args=[statement_pdf.pk])
    assert statement_pdf.status == StatementPdf.Status.READY  # the task ran once the request committed
    assert statement_pdf.line_count == 31 and statement_pdf.pages_done == statement_pdf.pages_total > 0
    assert document_storage().exists(statement_pdf.file.name) and statement_pdf.file.name.startswith("statements/")
    page = client.get(response.url).content.decode()
    assert "Ready" in page and reverse("portal:statement-pdf-download", args=[statement_pdf.pk]) in page
    download = client.get(reverse("portal:statement-pdf-download", args=[statement_pdf.pk]))
    assert download["Content-Disposition"] == 'attachment; filename="Statement-20260101-20261231.pdf"'
    assert download["Cache-Control"] == "private, no-store"
    text = _pdf_text(b"".join(download.streaming_content))
    assert re.findall(r"LONG-\d{4}", text) == [f"LONG-{i:04d}" for i in range(30)]
    assert "LONG-PAY" in text


@pytest.mark.django_db(transaction=True)
def test_a_statement_asked_for_by_email_is_sent_to_the_contact_as_an_attachment(client, long_statement):
    user = long_statement["contact"].user
    client.force_login(user)

    client.post(reverse("portal:statement-pdf"), {**PERIOD, "email_me": "on"})

    (message,) = mail.outbox
    assert message.to == [user.email]
    (name, content, mimetype), = message.attachments
    assert (name, mimetype) == ("Statement-20260101-20261231.pdf", "application/pdf")
    assert "LONG-0029" in _pdf_text(content)


@pytest.mark.django_db
def test_another_contact_cannot_see_follow_or_download_a_statement_pdf_by_its_id(client, long_statement):
    owner = long_statement["contact"]
    statement_pdf = request_statement_pdf(user=owner.user, customer=owner.customer, start=dt.date(2026, 1, 1),
                                          end=dt.date(2026, 12, 31), line_count=31)
    build_statement_pdf(statement_pdf_id=statement_pdf.pk)
    colleague = ContactPersonFactory(customer=owner.customer, is_primary=False)  # same customer, other login
    stranger = ContactPersonFactory()
    urls = [reverse(name, args=[statement_pdf.pk]) for name in
            ("portal:statement-pdf-status", "portal:statement-pdf-progress", "portal:statement-pdf-download")]

    for intruder in (colleague, stranger):
        client.force_login(intruder.user)
        assert [client.get(url).status_code for url in urls] == [404, 404, 404]
    client.force_login(owner.user)
    assert [client.get(url).status_code for url in urls] == [200, 200, 200]


@pytest.mark.django_db
def test_a_contact_whose_access_was_withdrawn_can_no_longer_download_its_statement_pdf(client, long_statement):
    owner = long_statement["contact"]
    statement_pdf = request_statement_pdf(user=owner.user, customer=owner.customer, start=dt.date(2026, 1, 1),
                                          end=dt.date(2026, 12, 31), line_count=31)
    build_statement_pdf(statement_pdf_id=statement_pdf.pk)
    client.force_login(owner.user)
    owner.portal_enabled = False
    owner.save()

    response = client.get(reverse("portal:statement-pdf-download", args=[statement_pdf.pk]))

    assert response["Content-Type"] != "application/pdf" and b"%PDF" not in response.content


@pytest.mark.django_db
def test_a_statement_is_built_from_what_the_contact_sees_when_the_task_runs(long_statement):
    owner = long_statement["contact"]
    statement_pdf = request_statement_pdf(user=owner.user, customer=owner.customer, start=dt.date(2026, 1, 1),
                                          end=dt.date(2026, 12, 31), line_count=31)
    owner.portal_enabled = False
    owner.save()

    built = build_statement_pdf(statement_pdf_id=statement_pdf.pk)

    assert built.status == StatementPdf.Status.FAILED and not built.file
    assert built.failure == "This statement's accounts are no longer open to you."


@pytest.mark.django_db
def test_short_statements_still_download_at_once_and_nothing_is_queued(client, head_office):
    _ledger(head_office["shared"], 3)
    client.force_login(head_office["contact"].user)

    by_post = client.post(reverse("portal:statement-pdf"), PERIOD)
    by_link = client.get(reverse("portal:statement-pdf"), PERIOD)

    for response in (by_post, by_link):
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert "LONG-0002" in _pdf_text(response.content)
    assert not StatementPdf.objects.exists()


@pytest.mark.django_db
def test_a_link_to_a_long_statement_only_offers_to_prepare_it(client, long_statement):
    client.force_login(long_statement["contact"].user)

    response = client.get(reverse("portal:statement-pdf"), PERIOD)

    page = response.content.decode()
    assert response.status_code == 200 and "This statement has 31 lines" in page and "Prepare the PDF" in page
    assert not StatementPdf.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "pages", "shown", "polls"),
    [
        ("queued", (0, 0), "Waiting to start", True),
        ("building", (40, 120), "Page 40 of 120 prepared", True),
        ("ready", (3, 3), "Download PDF", False),
        ("failed", (0, 0), "The statement could not be built. Please ask for it again.", False),
    ],
)
def test_the_status_page_says_where_the_pdf_stands(client, long_statement, status, pages, shown, polls):
    owner = long_statement["contact"]
    statement_pdf = request_statement_pdf(user=owner.user, customer=owner.customer, start=dt.date(2026, 1, 1),
                                          end=dt.date(2026, 12, 31), line_count=31)
    StatementPdf.objects.filter(pk=statement_pdf.pk).update(
        status=status, pages_done=pages[0], pages_total=pages[1],
        failure="The statement could not be built. Please ask for it again." if status == "failed" else "")
    client.force_login(owner.user)

    page = client.get(reverse("portal:statement-pdf-status", args=[statement_pdf.pk])).content.decode()
    progress = client.get(reverse("portal:statement-pdf-progress", args=[statement_pdf.pk])).json()

    assert shown in page
    assert f'data-pending="{"true" if polls else "false"}"' in page and "js/statement_pdf.js" in page
    assert "<script>" not in page  # the polling script is a static file: the CSP allows no inline script
    assert progress["pending"] is polls and progress["pages_done"] == pages[0]


@pytest.mark.django_db
def test_an_expired_statement_pdf_is_gone_with_its_file(client, long_statement):
    owner = long_statement["contact"]
    statement_pdf = request_statement_pdf(user=owner.user, customer=owner.customer, start=dt.date(2026, 1, 1),
                                          end=dt.date(2026, 12, 31), line_count=31)
    built = build_statement_pdf(statement_pdf_id=statement_pdf.pk)
    client.force_login(owner.user)
    StatementPdf.objects.filter(pk=built.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    page = client.get(reverse("portal:statement-pdf-status", args=[built.pk]))
    removed = expire_statement_pdfs()

    assert page.status_code == 404
    assert removed == 1 and not StatementPdf.objects.exists()
    assert not document_storage().exists(built.file.name)


@pytest.mark.django_db
def test_building_twice_keeps_one_ready_pdf(long_statement):
    owner = long_statement["contact"]
    statement_pdf = request_statement_pdf(user=owner.user, customer=owner.customer, start=dt.date(2026, 1, 1),
                                          end=dt.date(2026, 12, 31), line_count=31)

    first = build_statement_pdf(statement_pdf_id=statement_pdf.pk)
    again = build_statement_pdf(statement_pdf_id=statement_pdf.pk)

    assert again.status == StatementPdf.Status.READY and again.file.name == first.file.name


@pytest.mark.django_db(transaction=True)
def test_staff_get_a_long_statement_from_the_admin_in_the_background(client, long_statement, staff_user):
    customer = long_statement["parent"]
    client.force_login(staff_user)

    response = client.post(reverse("admin:portal_statementpdf_request"), {
        "customer": customer.pk, "start": "2026-01-01", "end": "2026-12-31", "branches": "1"})

    statement_pdf = StatementPdf.objects.get()
    assert response.url == reverse("admin:portal_statementpdf_change", args=[statement_pdf.pk])
    assert statement_pdf.for_staff and statement_pdf.status == StatementPdf.Status.READY
    page = client.get(response.url).content.decode()
    assert reverse("admin:portal_statementpdf_download", args=[statement_pdf.pk]) in page
    download = client.get(reverse("admin:portal_statementpdf_download", args=[statement_pdf.pk]))
    assert "LONG-0029" in _pdf_text(b"".join(download.streaming_content))
    # a staff PDF is not a contact's: the portal never hands it out
    client.force_login(long_statement["contact"].user)
    assert client.get(reverse("portal:statement-pdf-download", args=[statement_pdf.pk])).status_code == 404


@pytest.mark.django_db
def test_staff_get_a_short_statement_from_the_admin_at_once(client, head_office, staff_user):
    _ledger(head_office["parent"], 2)
    client.force_login(staff_user)

    response = client.post(reverse("admin:portal_statementpdf_request"), {
        "customer": head_office["parent"].pk, "start": "2026-01-01", "end": "2026-12-31"})

    assert response["Content-Type"] == "application/pdf" and "LONG-0001" in _pdf_text(response.content)
    assert not StatementPdf.objects.exists()


FORK_MODULES = {"multiprocessing", "billiard", "concurrent.futures"}


def _imports_and_forks(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] in {"multiprocessing", "billiard"}
                      or alias.name in FORK_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and (
                node.module.split(".")[0] in {"multiprocessing", "billiard"} or node.module in FORK_MODULES):
            found.append(node.module)
        elif isinstance(node, ast.Attribute) and node.attr in {"fork", "forkpty", "Pool"}:
            found.append(f"{ast.unparse(node)}")
    return [f"{path.relative_to(ROOT)}: {name}" for name in found]


def test_no_code_of_the_web_process_imports_multiprocessing_or_forks():
    web = [p for app in ("portal", "billing", "config", "crmsync") for p in (ROOT / app).rglob("*.py")
           if "migrations" not in p.parts]

    assert [hit for path in web for hit in _imports_and_forks(path)] == []


@pytest.mark.django_db
def test_rendering_a_statement_in_a_request_never_forks(client, head_office, monkeypatch):
    _ledger(head_office["shared"], 3)
    client.force_login(head_office["contact"].user)

    def refuse(*args, **kwargs):
        raise AssertionError("the web process forked")

    monkeypatch.setattr(os, "fork", refuse)
    response = client.get(reverse("portal:statement-pdf"), PERIOD)

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_a_web_process_has_loaded_weasyprint_before_its_first_request_so_no_pdf_starts_a_process():
    import subprocess
    import sys

    check = (
        "import subprocess, config.wsgi\n"
        "def refuse(*args, **kwargs): raise AssertionError('a PDF started a process')\n"
        "subprocess.Popen.__init__ = refuse\n"
        "from portal.pdf import html_to_pdf\n"
        "assert html_to_pdf('<p>Statement</p>').startswith(b'%PDF')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}

    finished = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True)

    assert finished.returncode == 0, finished.stderr[-2000:]


@pytest.mark.django_db
def test_the_admin_statement_page_offers_its_statement_as_a_pdf(client, head_office, staff_user):
    client.force_login(staff_user)

    page = client.get(reverse("admin:billing_customer_statement", args=[head_office["parent"].pk]),
                      {"start": "2026-01-01", "end": "2026-06-30", "branches": "1"}).content.decode()

    form = page[page.index(reverse("admin:portal_statementpdf_request")):]
    assert 'name="start" value="2026-01-01"' in form and 'name="end" value="2026-06-30"' in form
    assert 'name="branches" value="1"' in form and f'name="customer" value="{head_office["parent"].pk}"' in form
