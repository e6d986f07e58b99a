
import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.models import ContactPerson
from portal.models import Comment, ForwardedDocument, SharedDocument, StaffNotification
from tests.factories import (
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db


def _idor_urls(objects, document_id):
    return [
        ("get", f"/invoices/{objects['invoice'].pk}/"),
        ("get", f"/invoices/{objects['invoice'].pk}/pdf/"),
        ("post", f"/invoices/{objects['invoice'].pk}/comments/"),
        ("post", f"/invoices/{objects['invoice'].pk}/forward/"),
        ("get", f"/retainer-invoices/{objects['retainer'].pk}/"),
        ("get", f"/retainer-invoices/{objects['retainer'].pk}/pdf/"),
        ("get", f"/sales-orders/{objects['order'].pk}/"),
        ("get", f"/sales-orders/{objects['order'].pk}/pdf/"),
        ("post", f"/sales-orders/{objects['order'].pk}/comments/"),
        ("post", f"/sales-orders/{objects['order'].pk}/forward/"),
        ("get", f"/payments/{objects['payment'].pk}/"),
        ("get", f"/payments/{objects['payment'].pk}/receipt.pdf"),
        ("get", f"/documents/{document_id}/download/"),
        # An invoice id in the retainer URL (and the reverse) is not found either.
        ("get", f"/retainer-invoices/{objects['invoice'].pk}/"),
    ]


@pytest.mark.parametrize("key", ["private", "below_private"])
def test_every_portal_url_with_an_id_of_an_invisible_customer_is_not_found(client, head_office, ledger, key):
    document = SharedDocument.objects.create(
        customer=head_office[key],
        name="secret.pdf",
        size=3,
        content_type="application/pdf",
        file="shared/x/secret.pdf",
    )
    client.force_login(head_office["contact"].user)

    answers = {
        url: getattr(client, method)(url, {"body": "hi", "email": "x@example.com"}).status_code
        for method, url in _idor_urls(ledger[key], document.pk)
    }

    assert set(answers.values()) == {404}, answers
    assert not Comment.objects.exists() and len(mail.outbox) == 0


def test_statement_for_a_branch_id_the_user_cannot_see_is_refused(client, head_office, ledger):
    client.force_login(head_office["contact"].user)

    response = client.get(f"/statement/?period=this_year&branch={head_office['private'].pk}")

    assert response.status_code == 400
    assert "SECRET" not in response.content.decode()


def test_invoice_pay_now_of_a_paid_invoice_is_not_offered(client, head_office, ledger):
    client.force_login(head_office["contact"].user)

    page = client.get(f"/invoices/{ledger['parent']['paid'].pk}/").content.decode()

    assert "Pay Now" not in page


def test_first_view_of_an_invoice_is_recorded_once_and_notifies_staff(
    client, head_office, ledger, django_capture_on_commit_callbacks
):
    StaffUserFactory(email="bookkeeper@billing.example")
    invoice = ledger["parent"]["invoice"]
    client.force_login(head_office["contact"].user)

    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"/invoices/{invoice.pk}/")
        client.get(f"/invoices/{invoice.pk}/")

    invoice.refresh_from_db()
    assert invoice.first_viewed_at is not None
    assert StaffNotification.objects.filter(kind="first_view", invoice=invoice).count() == 1
    assert [m.to for m in mail.outbox] == [["bookkeeper@billing.example"]]


def test_a_comment_is_shown_on_the_invoice_and_emailed_to_staff(
    client, head_office, ledger, django_capture_on_commit_callbacks
):
    StaffUserFactory(email="bookkeeper@billing.example")
    invoice = ledger["parent"]["invoice"]
    client.force_login(head_office["contact"].user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/invoices/{invoice.pk}/comments/", {"body": "Can we pay in two parts?"}, follow=True
        )

    assert "Can we pay in two parts?" in response.content.decode()
    assert any("Can we pay in two parts?" in m.body for m in mail.outbox)


def test_an_empty_comment_is_refused_with_a_message_and_nothing_stored(client, head_office, ledger):
    client.force_login(head_office["contact"].user)

    response = client.post(f"/invoices/{ledger['parent']['invoice'].pk}/comments/", {"body": "   "})

    assert response.status_code == 400
    assert "field-error" in response.content.decode()
    assert not Comment.objects.exists()


def test_forwarding_an_invoice_emails_the_pdf_and_records_the_forward_without_adding_a_contact(
    client, head_office, ledger, django_capture_on_commit_callbacks
):
    invoice = ledger["shared"]["invoice"]
    client.force_login(head_office["contact"].user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/invoices/{invoice.pk}/forward/", {"email": "Ap@Shared.example", "name": "Alex Payable"}
        )

    sent = [m for m in mail.outbox if m.to == ["ap@shared.example"]]
    assert sent and sent[0].attachments[0][0] == f"{invoice.number}.pdf"
    assert ForwardedDocument.objects.filter(
        customer=head_office["shared"], invoice=invoice, email="ap@shared.example", name="Alex Payable"
    ).exists()
    assert not ContactPerson.objects.filter(email="ap@shared.example").exists()


def test_forwarding_to_a_bad_address_is_refused_and_adds_no_contact(client, head_office, ledger):
    client.force_login(head_office["contact"].user)
    before = ContactPerson.objects.count()

    response = client.post(f"/invoices/{ledger['parent']['invoice'].pk}/forward/", {"email": "not-an-email"})

    assert response.status_code == 400
    assert ContactPerson.objects.count() == before and not mail.outbox


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 20


def test_a_customer_uploads_pdfs_and_images_and_downloads_them_again(client, head_office):
    client.force_login(head_office["contact"].user)

    client.post(
        "/documents/",
        {"files": [SimpleUploadedFile("po.pdf", PDF_BYTES), SimpleUploadedFile("photo.png", PNG_BYTES)]},
    )
    document = SharedDocument.objects.get(name="po.pdf")
    download = client.get(f"/documents/{document.pk}/download/")

    assert SharedDocument.objects.filter(customer=head_office["parent"]).count() == 2
    assert b"".join(download.streaming_content) == PDF_BYTES


@pytest.mark.parametrize(
    "files, message",
    [
        ([SimpleUploadedFile("evil.pdf", b"MZ\x90\x00 this is an exe")], "not an allowed type"),
        ([SimpleUploadedFile("big.pdf", PDF_BYTES + b"0" * (5 * 1024 * 1024))], "the limit is 5 MB"),
        ([SimpleUploadedFile(f"f{i}.pdf", PDF_BYTES) for i in range(11)], "at most 10 files"),
        (
            [SimpleUploadedFile("ok.pdf", PDF_BYTES), SimpleUploadedFile("notes.txt", b"plain text")],
            "not an allowed type",
        ),
    ],
)
def test_a_refused_upload_says_why_and_stores_nothing(client, head_office, files, message, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 50  # let the form, not the request parser, answer
    client.force_login(head_office["contact"].user)

    response = client.post("/documents/", {"files": files})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SharedDocument.objects.exists()


def test_a_contact_edits_its_phone_and_address_when_the_organisation_allows(client, head_office):
    client.force_login(head_office["contact"].user)

    client.post(
        "/my-details/",
        {
            "phone": "+44 20 7946 0000",
            "mobile": "",
            "billing_address": "1 New Street",
            "shipping_address": "",
        },
    )

    head_office["contact"].refresh_from_db()
    head_office["parent"].refresh_from_db()
    assert head_office["contact"].phone == "+44 20 7946 0000"
    assert head_office["parent"].billing_address == "1 New Street"


def test_no_edit_form_and_no_change_when_the_organisation_does_not_allow_edits(client, head_office):
    from billing.models import Organisation

    organisation = Organisation.current()
    organisation.portal_allows_contact_edits = False
    organisation.save()
    client.force_login(head_office["contact"].user)

    page = client.get("/my-details/").content.decode()
    client.post("/my-details/", {"phone": "123", "billing_address": "x"})

    head_office["contact"].refresh_from_db()
    assert 'name="phone"' not in page
    assert head_office["contact"].phone == ""


def test_sales_orders_are_not_found_when_the_organisation_hides_them(client, head_office, ledger):
    from billing.models import Organisation

    organisation = Organisation.current()
    organisation.portal_shows_sales_orders = False
    organisation.save()
    client.force_login(head_office["contact"].user)

    assert client.get("/sales-orders/").status_code == 404
    assert "Sales Orders" not in client.get("/").content.decode()


def test_staff_see_customer_comments_and_notifications_in_the_admin(client, head_office, ledger, staff_user):
    client.force_login(head_office["contact"].user)
    client.post(f"/invoices/{ledger['parent']['invoice'].pk}/comments/", {"body": "Where is my discount?"})
    client.force_login(staff_user)

    comments = client.get("/admin/portal/comment/").content.decode()
    notifications = client.get("/admin/portal/staffnotification/").content.decode()

    assert "Where is my discount?" in comments
    assert "HQ-INV-1" in notifications
