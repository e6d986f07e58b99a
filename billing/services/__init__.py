from .contacts import (
    PortalInvitation,
    disable_portal_access,
    enable_portal_and_invite_primary_contacts,
    invite_contact,
)
from .customers import (
    BULK_ACTION_LIMIT,
    add_customers_to_group,
    link_to_parent,
    remove_customers_from_group,
    unlink_from_parent,
)

__all__ = [
    "BULK_ACTION_LIMIT",
    "PortalInvitation",
    "add_customers_to_group",
    "disable_portal_access",
    "enable_portal_and_invite_primary_contacts",
    "invite_contact",
    "link_to_parent",
    "remove_customers_from_group",
    "unlink_from_parent",
]
