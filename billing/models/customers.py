from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from billing.money import CURRENCY_CHOICES

# Ancestors of a customer, the customer included. UNION, not UNION ALL: a cycle in bad
# data must not loop forever.
_ANCESTORS = """WITH RECURSIVE up(id, parent_id) AS (
    SELECT id, parent_id FROM billing_customer WHERE id = %s
    UNION
    SELECT c.id, c.parent_id FROM billing_customer c JOIN up ON c.id = up.parent_id
) SELECT id FROM up"""


class CustomerGroup(models.Model):
    """Customers that share a price list, payment terms and a discount (Resellers, Enterprise…).

    Members read these values through `effective_terms`: a change here reaches every member
    that does not override the field.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    price_list = models.ForeignKey(
        "billing.PriceList", verbose_name=_("price list"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="groups",
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), null=True, blank=True, validators=[MaxValueValidator(365)],
        help_text=_("Empty: the organisation default."),
    )
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Empty: the organisation default."),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class CustomerQuerySet(models.QuerySet):
    def businesses(self):
        return self.filter(customer_type=Customer.Type.BUSINESS)

    def from_crm(self):
        return self.filter(origin=Customer.Origin.CRM)


class Customer(models.Model):
    class Type(models.TextChoices):
        BUSINESS = "business", _("Business")
        INDIVIDUAL = "individual", _("Individual")

    class Origin(models.TextChoices):
        BILLING = "billing", _("Created in billing")
        CRM = "crm", _("Imported from CRM")

    display_name = models.CharField(_("display name"), max_length=255, db_index=True)
    company_name = models.CharField(_("company name"), max_length=255, blank=True)
    customer_type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.BUSINESS)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="USD")
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)
    billing_address = models.TextField(_("billing address"), blank=True)
    shipping_address = models.TextField(_("shipping address"), blank=True)
    tax_id = models.CharField(_("tax number"), max_length=60, blank=True)

    group = models.ForeignKey(
        CustomerGroup, verbose_name=_("group"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="members",
    )
    # Overrides: empty means "use the group's value, else the organisation default".
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms override (days)"), null=True, blank=True, validators=[MaxValueValidator(365)],
        help_text=_("Empty: the group's terms, else the organisation default."),
    )
    discount_percent = models.DecimalField(
        _("discount override %"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Empty: the group's discount, else the organisation default."),
    )
    price_list = models.ForeignKey(
        "billing.PriceList", verbose_name=_("price list override"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="customers",
        help_text=_("Empty: the group's price list, else the organisation default."),
    )

    parent = models.ForeignKey(
        "self", verbose_name=_("parent customer"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    allow_parent_access = models.BooleanField(
        _("allow the parent to view and pay this customer's transactions"), default=True
    )
    portal_enabled = models.BooleanField(_("portal enabled"), default=False)
    allow_ach = models.BooleanField(
        _("allow this customer to pay via their bank account (ACH)"), default=False
    )
    notes = models.TextField(_("notes"), blank=True)

    origin = models.CharField(_("origin"), max_length=8, choices=Origin.choices, default=Origin.BILLING)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="customer_not_own_parent"),
        ]
        indexes = [models.Index(fields=["parent"], name="customer_parent_idx")]

    def __str__(self):
        return self.display_name

    @property
    def is_business(self) -> bool:
        return self.customer_type == self.Type.BUSINESS

    def ancestor_ids(self) -> set[int]:
        """Ids of this customer's ancestors (itself excluded), by one recursive query."""
        if self.parent_id is None:
            return set()
        return set(
            Customer.objects.filter(pk__in=RawSQL(_ANCESTORS, [self.parent_id])).values_list("pk", flat=True)
        )

    def clean(self):
        """The hierarchy rules, checked on every save path that calls full_clean()."""
        super().clean()
        errors: dict[str, list] = {}
        if self.parent_id is not None:
            parent = self.parent
            if not self.is_business:
                errors.setdefault("parent", []).append(ValidationError(
                    _("Only a Business customer can have a parent; this one is an Individual."),
                    code="child_not_business"))
            if parent.customer_type != self.Type.BUSINESS:
                errors.setdefault("parent", []).append(ValidationError(
                    _("%(parent)s is an Individual customer and cannot be a parent. "
                      "Choose a Business customer."),
                    code="parent_not_business", params={"parent": parent.display_name}))
            if self.pk is not None and (parent.pk == self.pk or self.pk in self.ancestor_ids()):
                errors.setdefault("parent", []).append(ValidationError(
                    _("%(parent)s is already below %(customer)s in the hierarchy; "
                      "linking them would make a loop."),
                    code="cycle", params={"parent": parent.display_name, "customer": self.display_name}))
            if parent.currency != self.currency:
                errors.setdefault("currency", []).append(ValidationError(
                    _("A branch bills in its parent's currency: %(parent)s uses %(cur)s."),
                    code="currency_differs_from_parent",
                    params={"parent": parent.display_name, "cur": parent.currency}))
        if self.pk is not None:
            children = Customer.objects.filter(parent_id=self.pk)
            if not self.is_business and children.exists():
                errors.setdefault("customer_type", []).append(ValidationError(
                    _("This customer has branches, so it must stay a Business customer. "
                      "Unlink the branches first."),
                    code="has_branches"))
            if children.exclude(currency=self.currency).exists():
                errors.setdefault("currency", []).append(ValidationError(
                    _("This customer's branches bill in another currency; "
                      "a parent and its branches share one."),
                    code="currency_differs_from_children"))
        if errors:
            raise ValidationError(errors)


class ContactPerson(models.Model):
    """A person at a customer. With a portal login, `user.contact` leads back here."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    salutation = models.CharField(_("salutation"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    designation = models.CharField(_("designation"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    portal_enabled = models.BooleanField(_("portal access"), default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="contact"
    )
    invited_at = models.DateTimeField(_("last invited"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "first_name", "last_name", "pk"]
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(is_primary=True),
                                    name="one_primary_contact"),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def clean(self):
        super().clean()
        if self.portal_enabled and not self.email:
            raise ValidationError({"email": _("A contact needs an email address to log into the portal.")},
                                  code="portal_needs_email")
