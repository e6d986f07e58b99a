"""Comments and forwarding work on sales orders as on invoices."""

import pytest
from django.core import mail

from billing.models import ContactPerson
from portal.models import Comment, ForwardedDocument

pytestmark = pytest.mark.django_db


def test_forwarding_a_branch_sales_order_emails_its_pdf_and_records_the_forward(
    client, head_office, ledger, django_capture_on_commit_callbacks
):
    order = ledger["shared"]["order"]
    client.force_login(head_office["contact"].user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/sales-orders/{order.pk}/forward/", {"email": "buyer@shared.example", "name": "Bo Buyer"}
        )

    assert response.status_code == 302
    sent = [m for m in mail.outbox if m.to == ["buyer@shared.example"]]
    assert sent and sent[0].attachments[0][0] == f"{order.number}.pdf"
    assert ForwardedDocument.objects.filter(customer=head_office["shared"], sales_order=order,
                                            email="buyer@shared.example").exists()
    assert not ContactPerson.objects.filter(email="buyer@shared.example").exists()


def test_forwarding_a_sales_order_to_a_bad_address_is_refused_and_sends_nothing(client, head_office, ledger):
    order = ledger["parent"]["order"]
    client.force_login(head_office["contact"].user)
    contacts_before = ContactPerson.objects.count()

    response = client.post(f"/sales-orders/{order.pk}/forward/", {"email": "not an address", "name": ""})

    assert response.status_code == 400
    assert ContactPerson.objects.count() == contacts_before
    assert mail.outbox == []


def test_a_comment_on_a_sales_order_is_shown_on_its_page(client, head_office, ledger):
    order = ledger["parent"]["order"]
    client.force_login(head_office["contact"].user)

    response = client.post(f"/sales-orders/{order.pk}/comments/", {"body": "Can we split delivery?"}, follow=True)

    assert Comment.objects.filter(sales_order=order, body="Can we split delivery?").exists()
    assert "Can we split delivery?" in response.content.decode()


def test_an_empty_comment_on_a_sales_order_is_refused_and_nothing_stored(client, head_office, ledger):
    order = ledger["parent"]["order"]
    client.force_login(head_office["contact"].user)

    response = client.post(f"/sales-orders/{order.pk}/comments/", {"body": "  "})

    assert response.status_code == 400
    assert not Comment.objects.exists()
