"""The demo organisation `make run` loads: the seeds' story of a head office with branches.

Idempotent: every row is found by a natural key first, so running it twice changes nothing.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from billing.models import ContactPerson, Customer, CustomerGroup, Item, Organisation, PriceList, PriceListItem

STAFF_EMAIL = "staff@brightline.example"
STAFF_PASSWORD = "brightline-staff-2026"
PORTAL_EMAIL = "hannah.reed@northwind.example"
BRANCH_PORTAL_EMAIL = "sam.ortiz@northwind.example"
PORTAL_PASSWORD = "northwind-portal-2026"

HEAD_OFFICE = "Northwind Networks"
BRANCH_CITIES = ("Boston", "Chicago", "Denver", "Seattle")
# Seattle runs its own books: the head office neither sees nor pays its invoices.
PRIVATE_BRANCH_CITY = "Seattle"


@dataclass(frozen=True)
class DemoLogins:
    staff_email: str
    staff_password: str
    portal_email: str
    branch_portal_email: str
    portal_password: str


def branch_name(city: str) -> str:
    return f"{HEAD_OFFICE} — {city}"


def _user(email: str, password: str, *, staff: bool = False):
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=email, defaults={"email": email})
    user.email = email
    user.is_staff = user.is_superuser = staff
    user.is_active = True
    user.set_password(password)
    user.save()
    if not staff:
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"primary": True, "verified": True}
        )
    return user


def _customer(display_name: str, **fields) -> Customer:
    customer, _ = Customer.objects.get_or_create(display_name=display_name, defaults=fields)
    return customer


def _contact(customer: Customer, email: str, first: str, last: str, *, primary: bool, login: bool, **extra):
    contact, _ = ContactPerson.objects.get_or_create(
        email=email,
        defaults=dict(customer=customer, first_name=first, last_name=last, is_primary=primary, **extra),
    )
    if login:
        contact.user = _user(email, PORTAL_PASSWORD)
        contact.portal_enabled = True
        contact.save(update_fields=["user", "portal_enabled"])
    return contact


def demo_banner(today: date) -> str:
    """The demo's portal banner, dated from today (two Fridays ahead) so it never reads as stale."""
    closed_on = today + timedelta(days=(4 - today.weekday()) % 7 + 7)
    return (
        f"Our office is closed on {closed_on.strftime('%A')} {closed_on.day} {closed_on.strftime('%B')} "
        "for a team day. Online payments keep working as usual."
    )


@transaction.atomic
def load_demo_organisation() -> DemoLogins:
    """Organisation, price lists, groups, items, customers with branches, contacts and logins."""
    organisation = Organisation.current()
    organisation.name = "Brightline IT Services"
    organisation.email = "accounts@brightline.example"
    organisation.phone = "+1 (617) 555-0142"
    organisation.website = "https://brightline.example"
    organisation.address = "200 Harbor Street, Suite 400\nBoston, MA 02110\nUnited States"
    organisation.tax_id = "EIN 04-5550142"
    organisation.base_currency = "USD"
    organisation.default_payment_terms_days = 30
    organisation.portal_banner_message = demo_banner(timezone.localdate())
    organisation.save()

    items = {}
    for name, unit, rate, sku in (
        ("Managed network support", "hour", "120.00", "SUP-HR"),
        ("Firewall licence", "licence-month", "49.00", "FW-LIC"),
        ("On-site visit", "visit", "250.00", "ONSITE"),
        ("Network audit", "project", "1800.00", "AUDIT"),
        ("Backup storage", "TB-month", "35.00", "BKP-TB"),
    ):
        items[name], _ = Item.objects.get_or_create(
            name=name, defaults={"unit": unit, "rate": Decimal(rate), "sku": sku, "tax_percent": Decimal("0")}
        )

    reseller_prices, _ = PriceList.objects.get_or_create(
        name="Reseller pricing",
        defaults={"kind": PriceList.Kind.PERCENTAGE, "percentage": Decimal("-15.00"),
                  "description": "15% below list on every item."},
    )
    enterprise_rates, _ = PriceList.objects.get_or_create(
        name="Enterprise rates",
        defaults={"kind": PriceList.Kind.PER_ITEM, "description": "Negotiated rates for enterprise contracts."},
    )
    for item_name, rate in (("Managed network support", "105.00"), ("Firewall licence", "42.50"),
                            ("Backup storage", "30.00")):
        PriceListItem.objects.get_or_create(
            price_list=enterprise_rates, item=items[item_name], currency="USD", defaults={"rate": Decimal(rate)}
        )

    resellers, _ = CustomerGroup.objects.get_or_create(
        name="Resellers",
        defaults={"price_list": reseller_prices, "payment_terms_days": 45, "discount_percent": Decimal("5.00"),
                  "description": "Partners who resell our services."},
    )
    enterprise, _ = CustomerGroup.objects.get_or_create(
        name="Enterprise Customers",
        defaults={"price_list": enterprise_rates, "payment_terms_days": 60,
                  "description": "Multi-site companies on negotiated contracts."},
    )
    direct, _ = CustomerGroup.objects.get_or_create(
        name="Direct Customers",
        defaults={"payment_terms_days": 15, "description": "Small businesses and individuals buying directly."},
    )

    head_office = _customer(
        HEAD_OFFICE, company_name="Northwind Networks Inc.", customer_type=Customer.Type.BUSINESS,
        currency="USD", email="ap@northwind.example", phone="+1 (212) 555-0100", group=enterprise,
        billing_address="1 Northwind Plaza\nNew York, NY 10001\nUnited States", portal_enabled=True, allow_ach=True,
    )
    for city in BRANCH_CITIES:
        _customer(
            branch_name(city), company_name=f"Northwind Networks {city} LLC", customer_type=Customer.Type.BUSINESS,
            currency="USD", email=f"{city.lower()}@northwind.example", group=enterprise, parent=head_office,
            allow_parent_access=city != PRIVATE_BRANCH_CITY, portal_enabled=True,
            billing_address=f"{city} office\nUnited States",
        )
    _customer("Pixel Partners", company_name="Pixel Partners Ltd", customer_type=Customer.Type.BUSINESS,
              currency="USD", email="billing@pixelpartners.example", group=resellers, portal_enabled=True)
    _customer("Acme Retail", company_name="Acme Retail Co", customer_type=Customer.Type.BUSINESS,
              currency="USD", email="finance@acmeretail.example", group=direct, payment_terms_days=7)
    _customer("Maria Lopez", customer_type=Customer.Type.INDIVIDUAL, currency="USD",
              email="maria.lopez@mail.example", group=direct)
    _customer("Tom Becker", customer_type=Customer.Type.INDIVIDUAL, currency="USD",
              email="tom.becker@mail.example")

    _contact(head_office, PORTAL_EMAIL, "Hannah", "Reed", primary=True, login=True,
             designation="Accounts payable lead", phone="+1 (212) 555-0101")
    _contact(head_office, "li.wei@northwind.example", "Li", "Wei", primary=False, login=False,
             designation="IT director")
    seattle = Customer.objects.get(display_name=branch_name(PRIVATE_BRANCH_CITY))
    _contact(seattle, BRANCH_PORTAL_EMAIL, "Sam", "Ortiz", primary=True, login=True, designation="Office manager")
    boston = Customer.objects.get(display_name=branch_name("Boston"))
    _contact(boston, "ops.boston@northwind.example", "Jordan", "Blake", primary=True, login=False)

    _user(STAFF_EMAIL, STAFF_PASSWORD, staff=True)
    return DemoLogins(STAFF_EMAIL, STAFF_PASSWORD, PORTAL_EMAIL, BRANCH_PORTAL_EMAIL, PORTAL_PASSWORD)
