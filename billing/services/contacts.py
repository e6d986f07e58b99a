"""Portal access for contact persons: invitations, re-invitations, disabling."""

from collections.abc import Iterable
from dataclasses import dataclass

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import ContactPerson, Customer, Organisation

from .customers import check_bulk_size


@dataclass(frozen=True)
class PortalInvitation:
    contact: ContactPerson
    set_password_url: str


def _portal_user_for(contact: ContactPerson):
    """The contact's login, created on first invitation. One user per email, case-insensitively."""
    User = get_user_model()
    email = contact.email.strip().lower()
    if contact.user_id is not None:
        user = contact.user
        if user.email.lower() != email:
            if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                raise ValidationError(
                    _("%(email)s already logs into the portal for another contact person."),
                    code="email_in_use", params={"email": email},
                )
            user.email = user.username = email
            user.save(update_fields=["email", "username"])
        return user
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if hasattr(existing, "contact") or existing.is_staff:
            raise ValidationError(
                _("%(email)s already has a login (another contact person or a staff member). "
                  "Use a different email address for this contact."),
                code="email_in_use", params={"email": email},
            )
        return existing
    user = User(username=email, email=email, is_active=True)
    user.set_unusable_password()
    user.save()
    return user


def _set_password_url(user) -> str:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    return settings.SITE_URL.rstrip("/") + path


@transaction.atomic
def invite_contact(*, contact: ContactPerson) -> PortalInvitation:
    """Give a contact portal access and email a set-password link. Safe to repeat (re-invite).

    The email leaves only after the transaction commits. Raises ValidationError when the
    contact has no email or the email belongs to another login.
    """
    # of=("self",): the user is an outer join, which PostgreSQL refuses to lock.
    contact = (ContactPerson.objects.select_for_update(of=("self",))
               .select_related("customer", "user").get(pk=contact.pk))
    if not contact.email:
        raise ValidationError(
            _("%(name)s has no email address, so they cannot be invited to the portal."),
            code="portal_needs_email", params={"name": contact.full_name},
        )
    user = _portal_user_for(contact)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    # After an email change the old address must stop working for login and password resets
    # (and allauth allows one primary address per user: delete before creating the new one).
    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).delete()
    EmailAddress.objects.update_or_create(
        user=user, email__iexact=user.email, defaults={"email": user.email, "primary": True, "verified": True}
    )
    contact.user = user
    contact.portal_enabled = True
    contact.invited_at = timezone.now()
    contact.full_clean()
    contact.save(update_fields=["user", "portal_enabled", "invited_at"])
    if not contact.customer.portal_enabled:
        Customer.objects.filter(pk=contact.customer_id).update(portal_enabled=True)
    url = _set_password_url(user)
    organisation = Organisation.current()
    context = {"contact": contact, "organisation": organisation, "set_password_url": url}
    subject = _("You're invited to the %(org)s customer portal") % {"org": organisation.name}
    body = render_to_string("email/portal_invitation.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [user.email]))
    return PortalInvitation(contact=contact, set_password_url=url)


@transaction.atomic
def disable_portal_access(*, contact: ContactPerson) -> ContactPerson:
    """Stop a contact logging in. Their login is kept (deactivated) so a re-invite restores it."""
    contact = ContactPerson.objects.select_for_update(of=("self",)).select_related("user").get(pk=contact.pk)
    contact.portal_enabled = False
    contact.save(update_fields=["portal_enabled"])
    if contact.user_id is not None and not contact.user.is_staff:
        contact.user.is_active = False
        contact.user.save(update_fields=["is_active"])
    return contact


def enable_portal_and_invite_primary_contacts(
    *, customer_ids: Iterable[int]
) -> tuple[list[PortalInvitation], list[str]]:
    """Turn the portal on for up to 50 customers and invite each one's primary contact.

    Each customer is its own transaction, so one contact without an email does not stop the
    others. Returns the invitations sent and a readable problem per customer skipped.
    """
    customer_ids = list(customer_ids)
    check_bulk_size(customer_ids)
    invitations: list[PortalInvitation] = []
    problems: list[str] = []
    customers = (Customer.objects.filter(pk__in=customer_ids).prefetch_related("contacts")
                 .order_by("display_name", "pk"))
    for customer in customers:
        primary = next((c for c in customer.contacts.all() if c.is_primary), None)
        if primary is None:
            problems.append(
                _("%(customer)s has no primary contact person.") % {"customer": customer.display_name}
            )
            continue
        try:
            with transaction.atomic():
                Customer.objects.filter(pk=customer.pk).update(portal_enabled=True)
                invitations.append(invite_contact(contact=primary))
        except ValidationError as exc:
            problems.append(f"{customer.display_name}: {' '.join(exc.messages)}")
    return invitations, problems


@transaction.atomic
def add_contact_person(*, customer: Customer, email: str, name: str = "") -> ContactPerson:
    """The customer's contact person with this email, created (without portal access) when missing.

    The customer row is locked so two forwards to the same new address create one contact.
    Raises ValidationError for an invalid email.
    """
    email = email.strip().lower()
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    contact = ContactPerson.objects.filter(customer=customer, email__iexact=email).first()
    if contact is None:
        first, _sep, last = (name.strip() or email.split("@")[0]).partition(" ")
        contact = ContactPerson(customer=customer, first_name=first[:100], last_name=last[:100], email=email)
        contact.full_clean()
        contact.save()
    return contact


@transaction.atomic
def update_own_contact_details(
    *, contact: ContactPerson, phone: str, mobile: str, billing_address: str, shipping_address: str
) -> ContactPerson:
    """A contact edits its own phone numbers and its customer's addresses, if the organisation allows it.

    Raises ValidationError(code="edits_not_allowed") otherwise; nothing is written then.
    """
    organisation = Organisation.current()
    if not organisation.portal_allows_contact_edits:
        raise ValidationError(
            _("%(org)s doesn't allow changes here; write to them instead."),
            code="edits_not_allowed",
            params={"org": organisation.name},
        )
    contact = ContactPerson.objects.select_for_update().select_related("customer").get(pk=contact.pk)
    contact.phone, contact.mobile = phone.strip(), mobile.strip()
    contact.full_clean()
    contact.save(update_fields=["phone", "mobile"])
    customer = contact.customer
    customer.billing_address, customer.shipping_address = billing_address.strip(), shipping_address.strip()
    customer.save(update_fields=["billing_address", "shipping_address", "updated_at"])
    return contact
