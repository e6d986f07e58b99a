"""Two contacts of one customer paying the same invoice: each has their own checkout."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from billing.gateways.sandbox import SandboxGateway
from billing.models import CheckoutAttempt, Payment
from billing.services.online_payments import start_checkout
from tests.factories import ContactPersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(head_office):
    """A second portal contact of the head office."""
    return ContactPersonFactory(customer=head_office["hq"], is_primary=False, first_name="Robin", last_name="Park")


def _start(client, contact, invoice, method="ach"):
    client.force_login(contact.user)
    return client.post(
        reverse("portal:pay-invoice", kwargs={"invoice_id": invoice.pk}),
        {"currency": "USD", "method": method, "invoice": [invoice.pk], f"amount_{invoice.pk}": "120.00"},
    )


def test_two_contacts_paying_the_same_invoice_each_get_their_own_checkout(client, head_office, colleague):
    invoice = head_office["east_invoice"]

    first = _start(client, head_office["contact"], invoice)
    second = _start(client, colleague, invoice)

    assert first.status_code == second.status_code == 302
    assert first["Location"] != second["Location"]
    attempts = CheckoutAttempt.objects.order_by("pk")
    assert [a.started_by for a in attempts] == [head_office["contact"].user, colleague.user]
    assert attempts[0].gateway_intent_id != attempts[1].gateway_intent_id


def test_the_same_contact_asking_again_resumes_their_checkout(client, head_office, colleague):
    invoice = head_office["east_invoice"]

    first = _start(client, head_office["contact"], invoice)
    again = _start(client, head_office["contact"], invoice)

    assert first["Location"] == again["Location"]
    assert CheckoutAttempt.objects.count() == 1


def test_the_second_contacts_bank_account_choice_is_answered_not_dropped(
    client, head_office, colleague, django_capture_on_commit_callbacks
):
    invoice = head_office["east_invoice"]
    first = _start(client, head_office["contact"], invoice)
    second = _start(client, colleague, invoice)

    client.force_login(head_office["contact"].user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(first["Location"], {"scenario": "ach_settles"})
    client.force_login(colleague.user)
    answer = client.post(second["Location"], {"scenario": "ach_fails"})

    mine, theirs = CheckoutAttempt.objects.order_by("pk")
    assert mine.status == CheckoutAttempt.Status.PROCESSING
    assert answer.status_code == 402
    assert "still processing" in answer.content.decode()
    assert theirs.status == CheckoutAttempt.Status.OPEN and theirs.payment is None
    assert Payment.objects.count() == 1


def test_a_contact_is_told_who_is_paying_an_invoice_whose_payment_was_sent_to_the_gateway(
    client, head_office, colleague
):
    invoice = head_office["east_invoice"]
    _start(client, head_office["contact"], invoice, method="card")
    # Sent for confirmation and not answered yet (a card asking for 3-D Secure, say).
    CheckoutAttempt.objects.update(confirmed_at=timezone.now())

    refused = _start(client, colleague, invoice, method="card")

    assert refused.status_code == 400
    contact = head_office["contact"]
    assert f"Invoice {invoice.number} is already being paid by {contact.full_name}." in refused.content.decode()
    assert CheckoutAttempt.objects.count() == 1


def test_a_confirmation_left_unanswered_for_hours_no_longer_blocks_the_invoice(head_office, colleague):
    invoice = head_office["east_invoice"]
    ask = dict(
        payer=head_office["hq"],
        allocations={invoice.pk: Decimal("120.00")},
        currency="USD",
        method=Payment.Method.CARD,
        gateway=SandboxGateway(),
    )
    stale = start_checkout(started_by=head_office["contact"].user, **ask)
    CheckoutAttempt.objects.update(confirmed_at=timezone.now() - timezone.timedelta(hours=2))

    fresh = start_checkout(started_by=colleague.user, **ask)

    assert fresh.pk != stale.pk


def test_the_service_names_nobody_when_the_other_payment_has_no_known_person(head_office, colleague):
    invoice = head_office["east_invoice"]
    ask = dict(
        payer=head_office["hq"],
        allocations={invoice.pk: Decimal("120.00")},
        currency="USD",
        method=Payment.Method.CARD,
        gateway=SandboxGateway(),
    )
    start_checkout(started_by=None, **ask)
    CheckoutAttempt.objects.update(confirmed_at=timezone.now())

    with pytest.raises(ValidationError) as refused:
        start_checkout(started_by=colleague.user, **ask)

    assert refused.value.code == "being_paid"
    assert refused.value.messages == [f"Invoice {invoice.number} is already being paid by someone else."]
