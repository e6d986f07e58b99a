"""Writes to the CRM connection: credentials, the five set-up steps, pause/resume, disable."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Organisation
from crmsync import crypto
from crmsync.clients import http_timeout
from crmsync.mapping import validate_mapping
from crmsync.models import CrmConnection, SyncRun
from crmsync.zoho import ZOHO_SCOPE_STRING, CrmAuthError, CrmError, CrmScopeError, ZohoClient


def connect_crm(
    *,
    email: str,
    accounts_domain: str,
    api_domain: str,
    client_id: str,
    client_secret: str = "",
    refresh_token: str = "",
) -> CrmConnection:
    """Connect (or update the credentials of) Zoho CRM after proving them with a token refresh.

    Blank secret or refresh token keep the stored ones (Update credentials). Secrets are stored
    encrypted. The base currencies are compared when the token may read the organisation
    (ZohoCRM.org.READ); without that scope the check is skipped and `connect_warning` says so.
    Raises ValidationError when Zoho refuses them, cannot be reached, or the currencies differ.
    """
    current = CrmConnection.current()
    client_secret = client_secret or current.client_secret
    refresh_token = refresh_token or current.refresh_token
    if not (client_id and client_secret and refresh_token):
        raise ValidationError(
            _("Enter the client id, client secret and refresh token from the Zoho API console."),
            code="credentials_missing",
        )
    probe = ZohoClient(
        accounts_domain=accounts_domain,
        api_domain=api_domain,
        client_id=client_id,
        client_secret=client_secret,
        refresh_token=refresh_token,
        max_retries=1,
        backoff_seconds=getattr(settings, "CRM_HTTP_BACKOFF_SECONDS", 1.0),
        timeout=http_timeout(),
    )
    ours = Organisation.current().base_currency
    warning = ""
    try:
        with probe:
            probe.refresh_access_token()
            try:
                crm_currency = probe.base_currency()
            except CrmScopeError as exc:
                # Without ZohoCRM.org.READ the organisation cannot be read: everything else works,
                # only the currency check is skipped, and staff are told so.
                crm_currency = ""
                warning = _(
                    "The base currencies were not compared: the refresh token was generated without the "
                    "%(scope)s scope, so Zoho CRM's organisation details cannot be read. Make sure Zoho CRM's "
                    "base currency is %(ours)s, or generate a new refresh token with the scopes %(scopes)s."
                ) % {"scope": exc.scope, "ours": ours, "scopes": ZOHO_SCOPE_STRING}
    except CrmAuthError as exc:
        raise ValidationError(exc.reason, code="credentials_refused") from None
    except CrmError as exc:
        raise ValidationError(exc.reason, code="crm_unavailable") from None
    if crm_currency and crm_currency != ours:
        # Zoho's prerequisite: with multi-currency on in the CRM, both base currencies must match.
        raise ValidationError(
            _("Zoho CRM's base currency is %(crm)s but billing's is %(ours)s. Make them match before connecting."),
            code="currency_mismatch",
            params={"crm": crm_currency, "ours": ours},
        )
    with transaction.atomic():
        connection = CrmConnection.objects.select_for_update().get(pk=current.pk)
        first_time = connection.connected_at is None or connection.client_id != client_id
        connection.email = email
        connection.accounts_domain = accounts_domain
        connection.api_domain = probe.api_domain or api_domain
        connection.client_id = client_id
        connection.client_secret_encrypted = crypto.encrypt(client_secret)
        connection.refresh_token_encrypted = crypto.encrypt(refresh_token)
        connection.access_token_encrypted = crypto.encrypt(probe.access_token)
        connection.access_token_expires_at = probe.access_token_expires_at
        connection.connected_at = timezone.now()
        connection.connect_warning = warning
        connection.is_enabled = True
        if first_time:
            connection.accounts_synced_until = connection.contacts_synced_until = None
        connection.full_clean()
        connection.save()
    return connection


@transaction.atomic
def configure_sync(
    *,
    module: str,
    include_orphan_contacts: bool,
    direction: str,
    duplicate_policy: str,
    account_view: dict | None,
    contact_view: dict | None,
    field_mapping: dict | None,
    crm_fields: dict[str, list[dict]] | None,
    sync_now: bool,
    push_transactions: bool | None = None,
    receivable_field_mapping: dict[str, str] | None = None,
) -> CrmConnection:
    """Save the five set-up steps; with `sync_now` (Save and Sync) start the initial sync after commit.

    `push_transactions` switches pushing invoices and sales orders on or off (None: unchanged);
    `receivable_field_mapping` names existing Account fields for receivables figures (None: unchanged);
    the CRM fields it needs are prepared by `prepare_crm_fields`, outside this transaction.
    `account_view` / `contact_view` are {"id", "name"} from the CRM's view list. The mapping is
    validated against `crm_fields` (the CRM's field lists: names and types); when they could not
    be read (`None`), the stored mapping (or the defaults) stays. A change of module, view or mapping
    makes the next run a full one. Raises ValidationError.
    """
    connection = CrmConnection.objects.select_for_update().get(pk=CrmConnection.current().pk)
    if not connection.has_credentials:
        raise ValidationError(_("Connect Zoho CRM before configuring the sync."), code="not_connected")
    if field_mapping is None or crm_fields is None:
        # Zoho's field list could not be read: the mapping in use stays (empty = the defaults).
        mapping = connection.field_mapping
    else:
        mapping = validate_mapping(mapping=field_mapping, crm_fields=crm_fields)
    before = (
        connection.module,
        connection.account_view_id,
        connection.contact_view_id,
        connection.field_mapping,
        connection.include_orphan_contacts,
    )
    connection.module = module
    connection.include_orphan_contacts = include_orphan_contacts
    connection.direction = direction
    connection.duplicate_policy = duplicate_policy
    connection.account_view_id = (account_view or {}).get("id", "")
    connection.account_view_name = (account_view or {}).get("name", "")
    connection.contact_view_id = (contact_view or {}).get("id", "")
    connection.contact_view_name = (contact_view or {}).get("name", "")
    connection.field_mapping = mapping
    if push_transactions is not None:
        connection.push_transactions = push_transactions
    if receivable_field_mapping is not None:
        connection.receivable_field_mapping = receivable_field_mapping
    after = (
        connection.module,
        connection.account_view_id,
        connection.contact_view_id,
        connection.field_mapping,
        connection.include_orphan_contacts,
    )
    if before != after:
        connection.accounts_synced_until = connection.contacts_synced_until = None
    connection.is_configured = True
    connection.full_clean()
    connection.save()
    if sync_now:
        _check_can_sync(connection)
        _enqueue_sync(SyncRun.Trigger.INITIAL)
    return connection


def _check_can_sync(connection: CrmConnection) -> None:
    if not connection.has_credentials:
        raise ValidationError(_("Connect Zoho CRM first."), code="not_connected")
    if not connection.is_enabled:
        raise ValidationError(_("The Zoho CRM integration is disabled. Enable it to sync."), code="disabled")
    if not connection.is_configured:
        raise ValidationError(_("Complete the set-up steps before syncing."), code="not_configured")
    if connection.is_paused:
        raise ValidationError(_("Sync is paused. Resume sync to run it again."), code="paused")


def _enqueue_sync(trigger: str) -> None:
    from crmsync.tasks import sync_crm_task  # tasks import services; import here to avoid a cycle

    transaction.on_commit(lambda: sync_crm_task.delay(trigger=trigger))


@transaction.atomic
def request_instant_sync() -> None:
    """Queue a sync now (Instant Sync). Raises ValidationError when paused, disabled or not set up."""
    connection = CrmConnection.objects.select_for_update().get(pk=CrmConnection.current().pk)
    _check_can_sync(connection)
    _enqueue_sync(SyncRun.Trigger.INSTANT)


def _set_flags(**flags) -> CrmConnection:
    # A queryset update, never save(): a running sync holds its own copy of the row and must
    # not be able to write an old is_paused back.
    connection = CrmConnection.current()
    CrmConnection.objects.filter(pk=connection.pk).update(updated_at=timezone.now(), **flags)
    connection.refresh_from_db()
    return connection


def pause_sync() -> CrmConnection:
    """Pause auto and instant sync. A sync already running finishes first."""
    return _set_flags(is_paused=True)


def resume_sync() -> CrmConnection:
    """Re-enable auto and instant sync."""
    return _set_flags(is_paused=False)


def disable_integration() -> CrmConnection:
    """Stop all data sync with Zoho CRM; settings and credentials are kept for re-enabling."""
    return _set_flags(is_enabled=False)


def enable_integration() -> CrmConnection:
    """Re-activate a disabled integration. Raises ValidationError when it was never connected."""
    if not CrmConnection.current().has_credentials:
        raise ValidationError(_("Connect Zoho CRM first."), code="not_connected")
    return _set_flags(is_enabled=True)
