from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings


class PortalAccountAdapter(DefaultAccountAdapter):
    """Portal logins are created by staff invitations only: no public sign-up."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # Say what to do: the lock lifts by itself within minutes, and a password reset lifts it at once.
        "too_many_login_attempts": "Too many failed login attempts. Wait a few minutes and try again, "
                                   "or reset your password.",
    }

    def is_open_for_signup(self, request) -> bool:
        return False


class PortalMFAAdapter(DefaultMFAAdapter):
    """When MFA is mandatory for staff, a staff login cannot turn its authenticator app off."""

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        user = authenticator.user
        if settings.STAFF_MFA_REQUIRED and (user.is_staff or user.is_superuser):
            return authenticator.type != Authenticator.Type.TOTP
        return super().can_delete_authenticator(authenticator)
