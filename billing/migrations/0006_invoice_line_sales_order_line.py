import django.db.models.deletion
from django.db import migrations, models


def link_converted_lines(apps, schema_editor):
    """Invoices converted before this field existed: match each line to the order line it copied.

    convert_sales_order_to_invoice copied item, description, rate, discount and tax in order-line
    order, so the first unmatched order line with the same values is the source.
    """
    InvoiceLine = apps.get_model("billing", "InvoiceLine")
    SalesOrderLine = apps.get_model("billing", "SalesOrderLine")
    lines = InvoiceLine.objects.filter(invoice__sales_order__isnull=False).select_related("invoice")
    for line in lines.order_by("invoice_id", "position", "pk"):
        candidates = SalesOrderLine.objects.filter(
            sales_order_id=line.invoice.sales_order_id,
            item_id=line.item_id,
            description=line.description,
            rate=line.rate,
            discount_percent=line.discount_percent,
            tax_percent=line.tax_percent,
        ).exclude(invoice_lines__invoice_id=line.invoice_id)
        source = candidates.order_by("position", "pk").first()
        if source is not None:
            line.sales_order_line = source
            line.save(update_fields=["sales_order_line"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_retainer_invoice_proxy"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoiceline",
            name="sales_order_line",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="invoice_lines",
                to="billing.salesorderline",
            ),
        ),
        migrations.RunPython(link_converted_lines, migrations.RunPython.noop),
    ]
