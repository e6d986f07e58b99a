"""Audit only: record each login for the user's "recent logins" list."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .models import PortalLogin


@receiver(user_logged_in, dispatch_uid="portal_record_login")
def record_login(sender, request, user, **kwargs):
    meta = getattr(request, "META", {}) if request is not None else {}
    PortalLogin.objects.create(
        user=user,
        ip_address=meta.get("REMOTE_ADDR") or None,
        user_agent=meta.get("HTTP_USER_AGENT", "")[:300],
    )
