"""Shared documents are private wherever they are stored: the attacks of issue 16, sent over HTTP.

Each test uploads and downloads through the portal or the admin as a browser would. The S3 path runs
against moto in server mode on a localhost socket, configured the way production is (from the
environment, config.settings.base.documents_storage_from_env).
"""

import importlib
import re

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import clear_url_caches

from config.settings.base import documents_storage_from_env
from portal.models import SharedDocument
from portal.services import upload_documents
from tests.factories import ContactPersonFactory, StaffUserFactory
from tests.security.object_store import moto_server, new_bucket, s3_client, storage_env

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# A PDF header in front of markup: what a browser would render if the file were served as text/html.
PDF_WITH_SCRIPT = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n"
RANDOM_PDF_NAME = re.compile(r"^documents/[0-9a-f]{32}\.pdf$")


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_documents(settings, monkeypatch, s3_endpoint):
    """Documents go to a fresh private bucket on the moto server; yields (boto3 client, bucket name)."""
    bucket = new_bucket(s3_endpoint)
    for key, value in storage_env(s3_endpoint, bucket).items():
        monkeypatch.setenv(key, value)
    settings.STORAGES = {**settings.STORAGES, "documents": documents_storage_from_env("s3")}
    return s3_client(s3_endpoint), bucket


@pytest.fixture(params=["memory", "s3"])
def storage_kind(request):
    """Run a test against the test settings' storage and against the S3 bucket."""
    if request.param == "s3":
        request.getfixturevalue("s3_documents")
    return request.param


@pytest.fixture
def customer_contact():
    return ContactPersonFactory(customer__display_name="Private Branch")


def _upload(client, contact, *files):
    client.force_login(contact.user)
    return client.post("/documents/", {"files": list(files)})


def _assert_download(response, *, body: bytes, filename: str, content_type: str):
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == body


@pytest.fixture
def debug_urls(settings, tmp_path):
    """The demo's URLs as `make run` builds them (DEBUG on), with files on a real disk under tmp_path."""
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "documents": {
            "BACKEND": "portal.documents.PrivateFileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private"},
        },
    }
    urls = importlib.import_module(settings.ROOT_URLCONF)
    importlib.reload(urls)
    clear_url_caches()
    yield tmp_path
    settings.DEBUG = False
    importlib.reload(urls)
    clear_url_caches()


def test_no_document_is_served_under_media_to_anyone(client, customer_contact, debug_urls):
    _upload(client, customer_contact, SimpleUploadedFile("contract.pdf", PDF_BYTES))
    document = SharedDocument.objects.get()
    client.logout()

    old_path = client.get(f"/media/shared/{customer_contact.customer_id}/contract.pdf")
    stored_path = client.get(f"/media/{document.file.name}")

    assert old_path.status_code == 404 and stored_path.status_code == 404
    assert not (debug_urls / "media").exists() or not any((debug_urls / "media").rglob("*.pdf"))
    # Anonymous download through the view: the login page, never the file.
    anonymous = client.get(f"/documents/{document.pk}/download/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_private_storage_has_no_url_to_link_to(debug_urls):
    with pytest.raises(ValueError, match="no public URL"):
        storages["documents"].url("documents/x.pdf")


def test_another_customers_document_is_not_found_through_portal_or_admin(client, customer_contact, storage_kind):
    other = ContactPersonFactory(customer__display_name="Someone Else")
    (document,) = upload_documents(
        customer=other.customer, user=None, files=[SimpleUploadedFile("theirs.pdf", PDF_BYTES)]
    )
    client.force_login(customer_contact.user)

    portal = client.get(f"/documents/{document.pk}/download/")
    admin = client.get(f"/admin/portal/shareddocument/{document.pk}/download/")

    assert portal.status_code == 404
    assert admin.status_code == 302 and "login" in admin["Location"]


def test_a_pdf_named_html_is_stored_and_served_as_a_pdf_attachment(client, customer_contact, storage_kind):
    response = _upload(client, customer_contact, SimpleUploadedFile("x.html", PDF_WITH_SCRIPT, "text/html"))

    assert response.status_code == 302
    document = SharedDocument.objects.get()
    assert RANDOM_PDF_NAME.match(document.file.name), document.file.name
    assert (document.name, document.content_type) == ("x.pdf", "application/pdf")
    download = client.get(f"/documents/{document.pk}/download/")
    _assert_download(download, body=PDF_WITH_SCRIPT, filename="x.pdf", content_type="application/pdf")


def test_on_s3_the_object_has_a_random_name_and_a_private_acl(client, customer_contact, s3_documents):
    s3, bucket = s3_documents

    _upload(client, customer_contact, SimpleUploadedFile("C:\\fakepath\\Q3 <i>report.html", PDF_BYTES))

    document = SharedDocument.objects.get()
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [document.file.name] and RANDOM_PDF_NAME.match(keys[0])
    grants = s3.get_object_acl(Bucket=bucket, Key=keys[0])["Grants"]
    assert all("URI" not in grant["Grantee"] for grant in grants), grants  # no AllUsers / AuthenticatedUsers
    assert document.name == "Q3 _i_report.pdf"
    download = client.get(f"/documents/{document.pk}/download/")
    _assert_download(download, body=PDF_BYTES, filename="Q3 _i_report.pdf", content_type="application/pdf")


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("x.pdf", b"<html><script>alert(1)</script></html>", "x.pdf is not an allowed type"),
        ("big.pdf", PDF_BYTES + b"0" * (5 * 1024 * 1024), "the limit is 5 MB per file"),
    ],
    ids=["html-named-pdf", "oversize"],
)
def test_a_refused_upload_says_why_and_stores_nothing(client, customer_contact, storage_kind, name, content, message):
    response = _upload(client, customer_contact, SimpleUploadedFile(name, content, "application/pdf"))

    assert response.status_code == 400
    assert message in response.content.decode(), response.content.decode()[-3000:]
    assert not SharedDocument.objects.exists()
    if storage_kind == "s3":
        assert storages["documents"].listdir("documents") == ([], [])


def test_staff_download_through_the_admin_view_and_the_admin_page_links_to_it(client, customer_contact, storage_kind):
    (document,) = upload_documents(
        customer=customer_contact.customer,
        user=customer_contact.user,
        files=[SimpleUploadedFile("x.html", PDF_WITH_SCRIPT)],
    )
    url = f"/admin/portal/shareddocument/{document.pk}/download/"

    client.force_login(customer_contact.user)
    assert client.get(url).status_code == 302  # a customer gets the admin login, not the file
    client.logout()
    assert client.get(url).status_code == 302

    client.force_login(StaffUserFactory())
    page = client.get(f"/admin/portal/shareddocument/{document.pk}/change/").content.decode()
    listing = client.get("/admin/portal/shareddocument/").content.decode()
    assert f'href="{url}"' in page and f'href="{url}"' in listing
    assert "/media/" not in page and "x.html" not in page
    _assert_download(client.get(url), body=PDF_WITH_SCRIPT, filename="x.pdf", content_type="application/pdf")


def test_staff_upload_in_the_admin_gets_a_random_name_and_the_detected_type(client, customer_contact, storage_kind):
    client.force_login(StaffUserFactory())

    response = client.post(
        "/admin/portal/shareddocument/add/",
        {"customer": customer_contact.customer_id, "file": SimpleUploadedFile("x.html", PDF_BYTES, "text/html")},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    document = SharedDocument.objects.get()
    assert RANDOM_PDF_NAME.match(document.file.name) and document.name == "x.pdf" and document.from_staff


def test_a_staff_upload_of_html_bytes_is_refused(client, customer_contact):
    client.force_login(StaffUserFactory())

    response = client.post(
        "/admin/portal/shareddocument/add/",
        {"customer": customer_contact.customer_id, "file": SimpleUploadedFile("x.pdf", b"<html>hi</html>")},
    )

    assert response.status_code == 200 and "x.pdf is not an allowed type" in response.content.decode()
    assert not SharedDocument.objects.exists()


def test_the_migration_moves_old_public_files_to_random_private_names(
    customer_contact, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("portal.migrations.0002_private_documents")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    old_name = f"shared/{customer_contact.customer_id}/x.html"
    old_name = storages["default"].save(old_name, SimpleUploadedFile("x", PDF_BYTES))
    document = SharedDocument.objects.create(
        customer=customer_contact.customer, file=old_name, name="x.html", size=len(PDF_BYTES),
        content_type="application/pdf",
    )
    gone = SharedDocument.objects.create(
        customer=customer_contact.customer, file="shared/1/lost.pdf", name="lost.pdf", size=1,
        content_type="application/pdf",
    )

    with django_capture_on_commit_callbacks(execute=True):
        migration.move_to_private_storage(apps, connection.schema_editor())

    document.refresh_from_db()
    gone.refresh_from_db()
    assert RANDOM_PDF_NAME.match(document.file.name)
    assert storages["documents"].open(document.file.name).read() == PDF_BYTES
    assert not storages["default"].exists(old_name)
    assert gone.file.name == "shared/1/lost.pdf"


@pytest.mark.parametrize(
    "uploaded, shown",
    [
        ("x.html", "x.pdf"),
        ("Invoice 12.PDF", "Invoice 12.PDF"),
        ("../../etc/passwd", "passwd.pdf"),
        ("C:\\fakepath\\report.pdf", "report.pdf"),
        ('a"; filename="evil.html', "a_ filename=_evil.pdf"),
        ("x\u202efdp.exe", "xfdp.pdf"),
        ("\x00\x1f", "document.pdf"),
    ],
)
def test_the_display_name_is_sanitised_and_follows_the_detected_type(uploaded, shown):
    from portal.documents import display_name

    assert display_name(uploaded, "application/pdf") == shown
