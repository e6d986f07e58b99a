"""The offline demo: a CRM connection to the fake Zoho CRM that `make run` starts on port 8765."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import crypto
from .mapping import DEFAULT_MAPPING
from .models import CrmConnection

# The fake server's demo credentials (tests/fakes/zoho_server.py); not secrets.
DEMO_CLIENT_ID = "1000.DEMOCLIENT"
DEMO_CLIENT_SECRET = "demo-client-secret"
DEMO_REFRESH_TOKEN = "1000.demo-refresh-token"


def demo_url() -> str:
    return settings.CRM_DEMO_URL.rstrip("/")


def uses_demo_crm(connection: CrmConnection) -> bool:
    """Whether the connection talks to the offline demo's fake Zoho CRM (not a real one)."""
    return connection.has_credentials and connection.api_domain.rstrip("/") == demo_url()


@transaction.atomic
def load_demo_crm() -> CrmConnection:
    """Point the CRM connection at the local fake Zoho CRM with demo credentials. Safe to repeat.

    Connected, enabled, set up for "Accounts and their Contacts" (orphans included), both ways
    (billing's customers become CRM accounts and contacts, and their receivables go to the
    accounts), invoices and sales orders pushed, skip duplicates, default mapping. No sync is
    started and no history is touched: staff Instant Sync from the admin once the fake server runs,
    and that first sync pushes the demo ledger.
    """
    connection = CrmConnection.current()
    connection = CrmConnection.objects.select_for_update().get(pk=connection.pk)
    connection.email = "crm-owner@example.com"
    connection.accounts_domain = demo_url()
    connection.api_domain = demo_url()
    connection.client_id = DEMO_CLIENT_ID
    if connection.client_secret != DEMO_CLIENT_SECRET:
        connection.client_secret_encrypted = crypto.encrypt(DEMO_CLIENT_SECRET)
    if connection.refresh_token != DEMO_REFRESH_TOKEN:
        connection.refresh_token_encrypted = crypto.encrypt(DEMO_REFRESH_TOKEN)
    connection.connected_at = connection.connected_at or timezone.now()
    connection.is_enabled = True
    if not connection.is_configured:
        connection.module = CrmConnection.Module.ACCOUNTS_AND_CONTACTS
        connection.include_orphan_contacts = True
        connection.direction = CrmConnection.Direction.BOTH
        connection.duplicate_policy = CrmConnection.DuplicatePolicy.SKIP
        connection.field_mapping = {module: [list(p) for p in pairs] for module, pairs in DEFAULT_MAPPING.items()}
        connection.push_transactions = True
        connection.is_configured = True
    connection.save()
    return connection
