"""A subscription's price and discount may be left empty: empty means the customer's effective value.

Before, a subscription with an item ignored its price column (always the effective price) and had no
discount of its own; those rows get an empty price here, so they bill exactly as before.
"""

from decimal import Decimal

import django.core.validators
from django.db import migrations, models


def items_use_the_effective_price(apps, schema_editor):
    Subscription = apps.get_model("billing", "Subscription")
    Subscription.objects.filter(item__isnull=False).update(price=None)


def fill_empty_prices(apps, schema_editor):
    Subscription = apps.get_model("billing", "Subscription")
    Subscription.objects.filter(price__isnull=True).update(price=Decimal("0.00"))


class Migration(migrations.Migration):
    dependencies = [("billing", "0013_gateway_event_unapplied_index")]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="discount_percent",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="Empty: the customer's discount (its own, else its group's, else the organisation's).",
                max_digits=5,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(Decimal("0")),
                    django.core.validators.MaxValueValidator(Decimal("100")),
                ],
                verbose_name="discount %",
            ),
        ),
        migrations.AlterField(
            model_name="subscription",
            name="price",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="Empty: the customer's price for the item (its price list, else the group's). Required "
                "without an item.",
                max_digits=18,
                null=True,
                verbose_name="price per period",
            ),
        ),
        migrations.RunPython(items_use_the_effective_price, fill_empty_prices),
    ]
