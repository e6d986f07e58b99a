from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.money import CURRENCY_CHOICES


class Organisation(models.Model):
    """The business that sends the invoices. One row; `Organisation.current()` reads it."""

    name = models.CharField(_("name"), max_length=200, default="Your company")
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)
    address = models.TextField(_("address"), blank=True)
    tax_id = models.CharField(_("tax number"), max_length=60, blank=True)
    logo = models.ImageField(_("logo"), upload_to="organisation/", blank=True)
    base_currency = models.CharField(_("base currency"), max_length=3, choices=CURRENCY_CHOICES, default="USD")
    default_payment_terms_days = models.PositiveSmallIntegerField(
        _("default payment terms (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    default_discount_percent = models.DecimalField(
        _("default discount %"), max_digits=5, decimal_places=2, default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    default_price_list = models.ForeignKey(
        "billing.PriceList", verbose_name=_("default price list"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    portal_banner_message = models.TextField(
        _("portal banner message"), blank=True, help_text=_("Shown at the top of every portal page.")
    )
    portal_allows_contact_edits = models.BooleanField(
        _("contacts may edit their phone and address in the portal"), default=True
    )
    portal_shows_sales_orders = models.BooleanField(_("show sales orders in the portal"), default=True)

    class Meta:
        verbose_name = _("organisation settings")
        verbose_name_plural = _("organisation settings")

    def __str__(self):
        return self.name

    @classmethod
    def current(cls) -> "Organisation":
        organisation, _created = cls.objects.get_or_create(pk=1)
        return organisation
