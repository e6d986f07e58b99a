"""Factories: valid by default, amounts written out. Ledger factories live beside these."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from billing.models import ContactPerson, Customer, CustomerGroup, Item, PriceList, PriceListItem

PORTAL_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    username = factory.SelfAttribute("email")
    password = factory.django.Password(PORTAL_PASSWORD)


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    name = factory.Sequence(lambda n: f"Price list {n}")
    kind = PriceList.Kind.PERCENTAGE
    percentage = Decimal("0.00")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    name = factory.Sequence(lambda n: f"Item {n}")
    unit = "hour"
    rate = Decimal("100.00")


class PriceListItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceListItem

    price_list = factory.SubFactory(PriceListFactory, kind=PriceList.Kind.PER_ITEM)
    item = factory.SubFactory(ItemFactory)
    currency = "USD"
    rate = Decimal("90.00")


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup

    name = factory.Sequence(lambda n: f"Group {n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    display_name = factory.Sequence(lambda n: f"Customer {n:04d}")
    company_name = factory.SelfAttribute("display_name")
    customer_type = Customer.Type.BUSINESS
    currency = "USD"
    email = factory.Sequence(lambda n: f"accounts{n}@customer.example")
    portal_enabled = True


class ContactPersonFactory(factory.django.DjangoModelFactory):
    """A contact with a working portal login (password PORTAL_PASSWORD)."""

    class Meta:
        model = ContactPerson

    customer = factory.SubFactory(CustomerFactory)
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Example"
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    is_primary = True
    portal_enabled = True
    user = factory.SubFactory(UserFactory, email=factory.SelfAttribute("..email"))


# --- Ledger factories (owned by ledger): valid by default, amounts written out. -------------------
# Numbers start with "F-" so they never collide with numbers the services take from DocumentSequence.

import datetime as _dt  # noqa: E402

from django.utils import timezone  # noqa: E402

from billing.models import (  # noqa: E402
    Allocation,
    CreditNote,
    Invoice,
    InvoiceLine,
    Payment,
    SalesOrder,
    SalesOrderLine,
    Subscription,
)


class InvoiceFactory(factory.django.DjangoModelFactory):
    """A sent invoice of 100.00 with one matching line, owing all of it."""

    class Meta:
        model = Invoice
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"F-INV-{n:05d}")
    currency = factory.SelfAttribute("customer.currency")
    status = Invoice.Status.SENT
    issued_on = factory.LazyFunction(timezone.localdate)
    due_on = factory.LazyAttribute(lambda o: o.issued_on + _dt.timedelta(days=30))
    subtotal = factory.SelfAttribute("total")
    total = Decimal("100.00")
    balance_due = factory.SelfAttribute("total")  # a new invoice owes all of it
    sent_at = factory.LazyFunction(timezone.now)
    line = factory.RelatedFactory(
        "tests.factories.InvoiceLineFactory", factory_related_name="invoice",
        rate=factory.SelfAttribute("..total"), amount=factory.SelfAttribute("..total"),
    )

    class Params:
        voided = factory.Trait(status=Invoice.Status.VOID, balance_due=Decimal("0.00"),
                               voided_at=factory.LazyFunction(timezone.now))
        draft = factory.Trait(status=Invoice.Status.DRAFT, sent_at=None)


class RetainerInvoiceFactory(InvoiceFactory):
    is_retainer = True
    number = factory.Sequence(lambda n: f"F-RET-{n:05d}")


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory, line=None)
    description = "Consulting"
    quantity = Decimal("1")
    rate = Decimal("100.00")
    amount = Decimal("100.00")


class PaymentFactory(factory.django.DjangoModelFactory):
    """A succeeded offline payment of 100.00, nothing allocated yet."""

    class Meta:
        model = Payment

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"F-PAY-{n:05d}")
    currency = factory.SelfAttribute("customer.currency")
    amount = Decimal("100.00")
    unallocated = factory.SelfAttribute("amount")
    paid_on = factory.LazyFunction(timezone.localdate)
    method = Payment.Method.BANK_TRANSFER
    status = Payment.Status.SUCCEEDED


class AllocationFactory(factory.django.DjangoModelFactory):
    """Part of a payment applied to an invoice, written as it stands: the caller sets the invoice's
    balance and the payment's unallocated amount to match (the ledger services do both themselves)."""

    class Meta:
        model = Allocation

    payment = factory.SubFactory(PaymentFactory)
    invoice = factory.SubFactory(InvoiceFactory, customer=factory.SelfAttribute("..payment.customer"))
    amount = Decimal("100.00")
    payer_customer = factory.SelfAttribute("payment.customer")
    invoice_customer = factory.SelfAttribute("invoice.customer")


class CreditNoteFactory(factory.django.DjangoModelFactory):
    """An open credit note of 50.00, nothing applied yet."""

    class Meta:
        model = CreditNote

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"F-CN-{n:05d}")
    currency = factory.SelfAttribute("customer.currency")
    issued_on = factory.LazyFunction(timezone.localdate)
    subtotal = factory.SelfAttribute("total")
    total = Decimal("50.00")
    balance = factory.SelfAttribute("total")
    status = CreditNote.Status.OPEN


class SalesOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesOrder

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"F-SO-{n:05d}")
    currency = factory.SelfAttribute("customer.currency")
    status = SalesOrder.Status.CONFIRMED
    ordered_on = factory.LazyFunction(timezone.localdate)


class SalesOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesOrderLine

    sales_order = factory.SubFactory(SalesOrderFactory)
    description = "Router"
    quantity = Decimal("2")
    rate = Decimal("50.00")
    amount = Decimal("100.00")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A live monthly plan of 49.00, first billed today."""

    class Meta:
        model = Subscription

    customer = factory.SubFactory(CustomerFactory)
    plan_name = factory.Sequence(lambda n: f"Maintenance plan {n}")
    item = None
    price = factory.LazyAttribute(lambda sub: None if sub.item else Decimal("49.00"))  # with an item: its price
    currency = factory.SelfAttribute("customer.currency")
    billing_period = Subscription.Period.MONTHLY
    starts_on = factory.LazyFunction(timezone.localdate)
    next_billing_on = factory.SelfAttribute("starts_on")
    status = Subscription.Status.LIVE


# --- the CRM integration's links (crmsync owns them; billing's models carry no CRM column) ---

from crmsync.models import CrmLink  # noqa: E402


class CrmLinkFactory(factory.django.DjangoModelFactory):
    """A customer linked to a CRM account by default; pass contact_person / invoice / sales_order
    (with customer=None) for other objects."""

    class Meta:
        model = CrmLink

    customer = factory.SubFactory(CustomerFactory)
    module = CrmLink.Module.ACCOUNTS
    crm_id = factory.Sequence(lambda n: f"{9_000_000 + n}")
    synced_at = factory.LazyFunction(timezone.now)


class DealLinkFactory(CrmLinkFactory):
    """A CRM deal (potential) linked to a document: pass invoice=… or sales_order=…."""

    customer = None
    module = CrmLink.Module.DEALS
    crm_name = "Renewal"


def linked_customer(crm_id: str, module: str = CrmLink.Module.ACCOUNTS) -> Customer:
    """The customer linked to this CRM record now (raises DoesNotExist when none is)."""
    return Customer.objects.get(pk=CrmLink.objects.active().of_customers(module).get(crm_id=crm_id).customer_id)


def link_of(obj, module: str = CrmLink.Module.ACCOUNTS) -> CrmLink | None:
    """The newest link of a customer, contact person, invoice or sales order in `module`, in force or not."""
    field = {Customer: "customer", ContactPerson: "contact_person"}.get(type(obj)) or (
        "sales_order" if type(obj)._meta.model_name == "salesorder" else "invoice"
    )
    return CrmLink.objects.filter(module=module, **{field: obj}).order_by("-pk").first()


def active_crm_id(obj, module: str = CrmLink.Module.ACCOUNTS) -> str | None:
    """The CRM id `obj` is linked to in `module` now, else None."""
    link = link_of(obj, module)
    return link.crm_id if link is not None and link.unlinked_at is None else None
