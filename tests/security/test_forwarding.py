"""Issue 16, forwarding: at most 10 forwards per contact an hour, and a forwarded address becomes a contact
person only when staff add it or the recipient accepts the invitation in the email."""

import re
import uuid

import pytest
from django.core import mail
from django.urls import reverse

from billing.models import ContactPerson
from portal.models import ForwardedDocument
from tests.factories import ContactPersonFactory, InvoiceFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice():
    return InvoiceFactory(customer=ContactPersonFactory(customer__display_name="Forwarder Ltd").customer,
                          number="FWD-INV-1")


def _forward(client, invoice, email, name=""):
    return client.post(f"/invoices/{invoice.pk}/forward/", {"email": email, "name": name})


def _invitation_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/forwarded/[^/\s]+/)", message.body).group(1)


def test_the_eleventh_forward_within_an_hour_is_refused_with_a_message_and_sends_nothing(
    client, invoice, django_capture_on_commit_callbacks
):
    client.force_login(invoice.customer.contacts.get().user)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(10):
            assert _forward(client, invoice, f"colleague{n}@example.net").status_code == 302

    with django_capture_on_commit_callbacks(execute=True):
        refused = _forward(client, invoice, "one-too-many@example.net")

    assert refused.status_code == 400
    assert "You can forward at most 10 documents an hour" in refused.content.decode()
    assert not [m for m in mail.outbox if "one-too-many@example.net" in m.to]
    assert not ForwardedDocument.objects.filter(email="one-too-many@example.net").exists()
    assert ForwardedDocument.objects.count() == 10


def test_the_limit_is_per_contact(client, invoice, django_capture_on_commit_callbacks, settings):
    settings.PORTAL_FORWARDS_PER_HOUR = 1
    colleague = ContactPersonFactory(customer=invoice.customer, is_primary=False)
    client.force_login(invoice.customer.contacts.exclude(pk=colleague.pk).get().user)
    _forward(client, invoice, "first@example.net")
    assert _forward(client, invoice, "second@example.net").status_code == 400

    client.force_login(colleague.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _forward(client, invoice, "third@example.net")

    assert response.status_code == 302
    assert [m.to for m in mail.outbox if m.attachments] == [["third@example.net"]]


def test_a_forward_creates_no_contact_person_until_the_recipient_accepts(
    client, invoice, django_capture_on_commit_callbacks
):
    client.force_login(invoice.customer.contacts.get().user)
    with django_capture_on_commit_callbacks(execute=True):
        _forward(client, invoice, "Ap@Partner.example", "Alex Payable")
    client.logout()
    invitation = _invitation_path(next(m for m in mail.outbox if m.to == ["ap@partner.example"]))

    shown = client.get(invitation)
    still_none = ContactPerson.objects.filter(email="ap@partner.example").exists()
    accepted = client.post(invitation)
    again = client.post(invitation)

    assert shown.status_code == 200 and "Forwarder Ltd" in shown.content.decode()
    assert not still_none
    assert accepted.status_code == 200
    contact = ContactPerson.objects.get(email="ap@partner.example")
    assert (contact.customer, contact.first_name, contact.last_name) == (invoice.customer, "Alex", "Payable")
    assert ForwardedDocument.objects.get().contact == contact
    assert again.status_code == 404 and ContactPerson.objects.filter(email="ap@partner.example").count() == 1


def test_thirty_forwards_to_thirty_addresses_add_no_contact_persons(client, invoice, settings):
    settings.PORTAL_FORWARDS_PER_HOUR = 30
    client.force_login(invoice.customer.contacts.get().user)
    contacts_before = ContactPerson.objects.count()

    for n in range(30):
        _forward(client, invoice, f"spam{n}@example.net")

    assert ForwardedDocument.objects.count() == 30
    assert ContactPerson.objects.count() == contacts_before


def test_a_made_up_invitation_is_not_found_and_adds_nobody(client, invoice):
    contacts_before = ContactPerson.objects.count()

    response = client.post("/forwarded/not-a-real-token/")

    assert response.status_code == 404
    assert ContactPerson.objects.count() == contacts_before


def test_staff_add_a_forwarded_address_as_a_contact_person_from_the_admin(client, invoice):
    client.force_login(invoice.customer.contacts.get().user)
    _forward(client, invoice, "buyer@partner.example", "Bo Buyer")
    forward = ForwardedDocument.objects.get()
    staff = StaffUserFactory()
    client.force_login(staff)

    response = client.post(reverse("admin:portal_forwardeddocument_changelist"),
                           {"action": "add_as_contact_person", "_selected_action": [forward.pk]}, follow=True)

    assert "1 recipient(s) added as contact persons." in response.content.decode()
    forward.refresh_from_db()
    assert forward.contact.email == "buyer@partner.example" and forward.contact.customer == invoice.customer
    assert forward.added_by == staff


def test_the_count_lives_in_redis_so_every_web_node_sees_it(client, invoice, settings):
    import redis
    from django.core.cache import caches

    prefix = f"secheaders-test-{uuid.uuid4().hex}"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": settings.REDIS_URL, "KEY_PREFIX": prefix}}
    settings.PORTAL_FORWARDS_PER_HOUR = 2
    contact = invoice.customer.contacts.get()
    client.force_login(contact.user)
    other_node = redis.Redis.from_url(settings.REDIS_URL)
    try:
        _forward(client, invoice, "one@example.net")
        _forward(client, invoice, "two@example.net")
        keys = other_node.keys(f"{prefix}:*forwards*")
        refused = _forward(client, invoice, "three@example.net")

        assert len(keys) == 1 and 0 < other_node.ttl(keys[0]) <= 3600
        assert refused.status_code == 400
        assert ForwardedDocument.objects.count() == 2
    finally:
        for key in other_node.keys(f"{prefix}:*"):
            other_node.delete(key)
        caches["default"].close()
