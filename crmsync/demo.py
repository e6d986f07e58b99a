"""The offline demo: a CRM connection to the fake Zoho CRM that `make run` starts on port 8765."""

from django.db import transaction
from django.utils import timezone

from . import crypto
from .mapping import DEFAULT_MAPPING
from .models import CrmConnection

DEMO_URL = "http://127.0.0.1:8765"
# The fake server's demo credentials (tests/fakes/zoho_server.py); not secrets.
DEMO_CLIENT_ID = "1000.DEMOCLIENT"
DEMO_CLIENT_SECRET = "demo-client-secret"
DEMO_REFRESH_TOKEN = "1000.demo-refresh-token"


@transaction.atomic
def load_demo_crm() -> CrmConnection:
    """Point the CRM connection at the local fake Zoho CRM with demo credentials. Safe to repeat.

    Connected, enabled, set up for "Accounts and their Contacts" (orphans included), fetch only,
    skip duplicates, default mapping; no sync is started and no history is touched. Staff can
    Instant Sync from the admin once the fake server runs.
    """
    connection = CrmConnection.current()
    connection = CrmConnection.objects.select_for_update().get(pk=connection.pk)
    connection.email = "crm-owner@example.com"
    connection.accounts_domain = DEMO_URL
    connection.api_domain = DEMO_URL
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
        connection.direction = CrmConnection.Direction.FETCH
        connection.duplicate_policy = CrmConnection.DuplicatePolicy.SKIP
        connection.field_mapping = {module: [list(p) for p in pairs] for module, pairs in DEFAULT_MAPPING.items()}
        connection.is_configured = True
    connection.save()
    return connection
