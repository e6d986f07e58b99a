from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.money import CURRENCY_CHOICES, MoneyField


class Item(models.Model):
    """Something we sell, with its standard rate in the organisation's base currency."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    sku = models.CharField(_("SKU"), max_length=60, blank=True)
    unit = models.CharField(_("unit"), max_length=30, default="unit", help_text=_("e.g. hour, licence, month"))
    description = models.TextField(_("description"), blank=True)
    rate = MoneyField(_("rate"), validators=[MinValueValidator(Decimal("0"))])
    tax_percent = models.DecimalField(
        _("tax %"), max_digits=5, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PriceList(models.Model):
    """Special pricing: a percentage up or down on every item's rate, or explicit per-item rates."""

    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", _("Markup or markdown on item rates")
        PER_ITEM = "per_item", _("Individual rates per item")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("pricing scheme"), max_length=12, choices=Kind.choices, default=Kind.PERCENTAGE)
    percentage = models.DecimalField(
        _("markup (+) or markdown (−) %"), max_digits=5, decimal_places=2, default=0,
        validators=[MinValueValidator(Decimal("-100"))],
        help_text=_("Percentage scheme only: 10 raises every rate by 10%, -15 lowers it by 15%."),
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PriceListItem(models.Model):
    """The rate of one item on a per-item price list, in one currency."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="item_rates")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="price_list_rates")
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="USD")
    rate = MoneyField(_("rate"), validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["price_list", "item", "currency"], name="price_list_item_currency_unique"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="price_list_item_rate_not_negative"),
        ]

    def __str__(self):
        return f"{self.item} @ {self.rate} {self.currency}"
