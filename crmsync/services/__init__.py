"""Everything that writes for the CRM integration."""

from crmsync.clients import client_for

from .connection import (
    configure_sync,
    connect_crm,
    disable_integration,
    enable_integration,
    pause_sync,
    request_instant_sync,
    resume_sync,
)
from .crm_fields import prepare_crm_fields
from .sync import sync_crm
from .transactions import dissociate_deal, import_crm_record, link_deal

__all__ = [
    "client_for",
    "configure_sync",
    "connect_crm",
    "disable_integration",
    "dissociate_deal",
    "enable_integration",
    "import_crm_record",
    "link_deal",
    "pause_sync",
    "prepare_crm_fields",
    "request_instant_sync",
    "resume_sync",
    "sync_crm",
]
