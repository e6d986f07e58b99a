"""A Zoho client built from the stored connection (services and selectors both need one)."""

from datetime import datetime

from django.conf import settings

from crmsync import crypto
from crmsync.models import CrmConnection
from crmsync.zoho import ZohoClient


def client_for(connection: CrmConnection) -> ZohoClient:
    """A Zoho client with the stored credentials; a refreshed access token is saved (encrypted)."""

    def save_token(token: str, expires_at: datetime) -> None:
        CrmConnection.objects.filter(pk=connection.pk).update(
            access_token_encrypted=crypto.encrypt(token), access_token_expires_at=expires_at
        )

    return ZohoClient(
        accounts_domain=connection.accounts_domain,
        api_domain=connection.api_domain,
        client_id=connection.client_id,
        client_secret=connection.client_secret,
        refresh_token=connection.refresh_token,
        access_token=connection.access_token,
        access_token_expires_at=connection.access_token_expires_at,
        on_new_token=save_token,
        max_retries=getattr(settings, "CRM_HTTP_RETRIES", 4),
        backoff_seconds=getattr(settings, "CRM_HTTP_BACKOFF_SECONDS", 1.0),
        timeout=http_timeout(),
    )


def http_timeout() -> float:
    """Seconds to wait for one Zoho answer (settings.CRM_HTTP_TIMEOUT, env, default 30)."""
    return float(getattr(settings, "CRM_HTTP_TIMEOUT", 30.0))
