"""Portal access for contact persons: invite, re-invite, disable, bulk enable."""

from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError

from billing.models import ContactPerson, Customer, Organisation
from billing.services import (
    add_contact_person,
    disable_portal_access,
    enable_portal_and_invite_primary_contacts,
    invite_contact,
    update_own_contact_details,
)
from tests.factories import ContactPersonFactory, CustomerFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a new long portal passphrase"


def _new_contact(**kwargs):
    """A contact who has never been invited: no login yet."""
    return ContactPersonFactory(user=None, portal_enabled=False, **kwargs)


def _link_in(message) -> str:
    return next(line for line in message.body.splitlines() if "/accounts/password/reset/key/" in line).strip()


def test_inviting_a_contact_emails_a_set_password_link_that_lets_them_log_in(
    client, django_capture_on_commit_callbacks
):
    contact = _new_contact(email="Pat@Branch.example", customer=CustomerFactory(display_name="Chicago"))

    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite_contact(contact=contact)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["pat@branch.example"]
    link = _link_in(mail.outbox[0])
    assert link == invitation.set_password_url
    form_page = client.get(urlsplit(link).path, follow=True)
    assert form_page.status_code == 200
    form_url = form_page.redirect_chain[-1][0]
    done = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    user = get_user_model().objects.get(email="pat@branch.example")
    assert user.check_password(NEW_PASSWORD)
    assert not user.is_staff
    contact.refresh_from_db()
    assert contact.user == user and contact.portal_enabled and contact.invited_at is not None


def test_the_email_leaves_only_when_the_invitation_commits(django_capture_on_commit_callbacks):
    contact = _new_contact()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite_contact(contact=contact)

    assert mail.outbox == []
    assert len(callbacks) == 1


def test_reinviting_sends_another_email_and_keeps_one_login(django_capture_on_commit_callbacks):
    contact = _new_contact(email="sam@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        invite_contact(contact=contact)
        invite_contact(contact=contact)

    assert len(mail.outbox) == 2
    assert get_user_model().objects.filter(email__iexact="sam@example.com").count() == 1


def test_inviting_turns_the_customer_portal_on():
    contact = _new_contact(customer=CustomerFactory(portal_enabled=False))

    invite_contact(contact=contact)

    assert Customer.objects.get(pk=contact.customer_id).portal_enabled is True


def test_an_email_already_used_by_another_contacts_login_is_refused_and_nothing_changes(
    django_capture_on_commit_callbacks,
):
    ContactPersonFactory(email="shared@example.com")
    second = _new_contact(email="SHARED@example.com")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as refused:
        invite_contact(contact=second)

    assert refused.value.code == "email_in_use"
    assert "shared@example.com" in refused.value.messages[0]
    second.refresh_from_db()
    assert second.user is None and not second.portal_enabled and second.invited_at is None
    assert mail.outbox == []


def test_a_contact_without_an_email_cannot_be_invited():
    contact = _new_contact(email="")

    with pytest.raises(ValidationError) as refused:
        invite_contact(contact=contact)

    assert refused.value.code == "portal_needs_email"


def test_disabling_access_deactivates_the_login_and_a_reinvite_restores_it(client):
    contact = ContactPersonFactory()

    disable_portal_access(contact=contact)

    contact.refresh_from_db()
    assert contact.portal_enabled is False
    assert contact.user.is_active is False
    assert client.login(username=contact.email, password="correct horse battery staple") is False
    invite_contact(contact=contact)
    contact.user.refresh_from_db()
    assert contact.user.is_active is True


def test_bulk_enable_invites_primary_contacts_and_explains_each_customer_skipped(
    django_capture_on_commit_callbacks,
):
    ready = _new_contact(customer=CustomerFactory(display_name="Ready", portal_enabled=False))
    no_email = _new_contact(email="", first_name="Noel", last_name="Mail",
                            customer=CustomerFactory(display_name="No email", portal_enabled=False))
    no_primary = CustomerFactory(display_name="No primary", portal_enabled=False)

    with django_capture_on_commit_callbacks(execute=True):
        sent, skipped = enable_portal_and_invite_primary_contacts(
            customer_ids=[ready.customer_id, no_email.customer_id, no_primary.pk])

    assert [invitation.contact.pk for invitation in sent] == [ready.pk]
    assert skipped == [
        "No email: Noel Mail has no email address, so they cannot be invited to the portal.",
        "No primary has no primary contact person.",
    ]
    assert len(mail.outbox) == 1
    enabled = Customer.objects.filter(portal_enabled=True).values_list("display_name", flat=True)
    assert list(enabled) == ["Ready"]


def test_bulk_enable_refuses_more_than_fifty_customers():
    customers = CustomerFactory.create_batch(51, portal_enabled=False)

    with pytest.raises(ValidationError) as refused:
        enable_portal_and_invite_primary_contacts(customer_ids=[c.pk for c in customers])

    assert refused.value.code == "too_many_selected"
    assert not Customer.objects.filter(portal_enabled=True).exists()
    assert not ContactPerson.objects.exists()


def test_reinviting_after_an_email_change_moves_the_login_to_the_new_address():
    contact = _new_contact(email="old@example.com")
    invite_contact(contact=contact)
    ContactPerson.objects.filter(pk=contact.pk).update(email="new@example.com")

    invite_contact(contact=contact)

    contact.refresh_from_db()
    assert contact.user.email == "new@example.com"
    assert list(EmailAddress.objects.filter(user=contact.user).values_list("email", flat=True)) == [
        "new@example.com"
    ]


def test_adding_a_contact_person_by_email_reuses_an_existing_one_whatever_the_case():
    customer = CustomerFactory()
    first = add_contact_person(customer=customer, email="Ana.Ruiz@Example.com", name="Ana Ruiz")

    again = add_contact_person(customer=customer, email="ana.ruiz@example.com ")

    assert again.pk == first.pk
    assert (first.first_name, first.last_name, first.portal_enabled) == ("Ana", "Ruiz", False)
    assert customer.contacts.count() == 1


def test_a_contact_cannot_edit_its_details_when_the_organisation_does_not_allow_it():
    contact = ContactPersonFactory(phone="+1 555 0100")
    organisation = Organisation.current()
    organisation.portal_allows_contact_edits = False
    organisation.save()

    with pytest.raises(ValidationError) as refused:
        update_own_contact_details(contact=contact, phone="+1 555 9999", mobile="", billing_address="Elsewhere",
                                   shipping_address="")

    assert refused.value.code == "edits_not_allowed"
    contact.refresh_from_db()
    assert contact.phone == "+1 555 0100"
    assert contact.customer.billing_address == ""
