from .contacts import (
    PortalInvitation,
    add_contact_person,
    disable_portal_access,
    enable_portal_and_invite_primary_contacts,
    invite_contact,
    update_own_contact_details,
)
from .credits import apply_credit_note, apply_retainer, create_credit_note, void_credit_note
from .customer_pages import (
    PAGE_LIMIT,
    ContactPersonRemoval,
    CustomerRemoval,
    PageResult,
    PageRow,
    delete_contact_persons,
    delete_customers,
    save_contact_person_page,
    save_customer_page,
)
from .customers import (
    BULK_ACTION_LIMIT,
    add_customers_to_group,
    link_to_parent,
    remove_customers_from_group,
    unlink_from_parent,
)
from .invoices import (
    LineInput,
    create_invoice,
    recalculate_draft_invoice,
    send_invoice,
    send_invoices,
    void_invoice,
)
from .numbering import next_document_number
from .payments import allocate_oldest_first, allocate_payment, record_payment
from .refunds import refund_credit_note, refund_payment, refund_retainer
from .sales_orders import (
    confirm_sales_order,
    convert_sales_order_to_invoice,
    create_sales_order,
    update_draft_sales_order,
)
from .subscriptions import bill_subscription, generate_due_subscription_invoices

__all__ = [
    "PAGE_LIMIT",
    "ContactPersonRemoval",
    "CustomerRemoval",
    "PageResult",
    "PageRow",
    "delete_contact_persons",
    "delete_customers",
    "save_contact_person_page",
    "save_customer_page",
    "LineInput",
    "allocate_oldest_first",
    "allocate_payment",
    "apply_credit_note",
    "apply_retainer",
    "bill_subscription",
    "convert_sales_order_to_invoice",
    "create_credit_note",
    "create_invoice",
    "create_sales_order",
    "generate_due_subscription_invoices",
    "next_document_number",
    "record_payment",
    "recalculate_draft_invoice",
    "refund_credit_note",
    "refund_payment",
    "refund_retainer",
    "send_invoice",
    "send_invoices",
    "void_invoice",
    "void_credit_note",
    "confirm_sales_order",
    "update_draft_sales_order",
    "BULK_ACTION_LIMIT",
    "PortalInvitation",
    "add_contact_person",
    "add_customers_to_group",
    "disable_portal_access",
    "enable_portal_and_invite_primary_contacts",
    "invite_contact",
    "link_to_parent",
    "remove_customers_from_group",
    "unlink_from_parent",
    "update_own_contact_details",
]
