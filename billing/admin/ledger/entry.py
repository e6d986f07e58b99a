"""Back-office entry of documents with lines: credit notes (free-standing or from an invoice) and
draft sales orders. The forms check shape; the services price, total and enforce the rules.

Lines are a fixed number of rows (the document's lines plus empty ones); an empty row is
ignored. A service error about line n is shown on that row, any other above the form.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import CreditNote, CreditNoteLine, Customer, Invoice, Item, SalesOrder
from billing.money import ZERO, MoneyFormField, format_money
from billing.services import LineInput

from .common import SafeAutocompleteSelect
from .effective import EFFECTIVE_TERMS_JS, customer_hints, hint_effective_fields

EMPTY_ROWS = 5
MAX_ROWS = 60


def _customer_widget(model):
    return SafeAutocompleteSelect(model._meta.get_field("customer"), admin.site)


class LineRowForm(forms.Form):
    """One line: an item (empty rate = the customer's price for it) or a description and a rate.
    Empty discount = the customer's effective discount; a typed one (0 included) is kept."""

    class Media:
        js = [EFFECTIVE_TERMS_JS]

    item = forms.ModelChoiceField(
        label=gettext_lazy("Item"),
        queryset=Item.objects.all(),
        required=False,
        widget=SafeAutocompleteSelect(CreditNoteLine._meta.get_field("item"), admin.site),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=500, required=False)
    quantity = forms.DecimalField(
        label=gettext_lazy("Quantity"), max_digits=12, decimal_places=3, min_value=Decimal("0.001"), initial=1
    )
    rate = MoneyFormField(label=gettext_lazy("Rate"), min_value=Decimal("0"), required=False)
    discount_percent = forms.DecimalField(
        label=gettext_lazy("Discount %"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        required=False,
    )
    tax_percent = forms.DecimalField(
        label=gettext_lazy("Tax %"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        required=False,
    )

    def __init__(self, *args, with_discount: bool, hints: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_discount:
            del self.fields["discount_percent"]
        for name in ("description", "rate", "discount_percent", "tax_percent"):
            if name in self.fields:
                self.fields[name].widget.attrs["size"] = 8 if name != "description" else 30
        hint_effective_fields(self, hints or customer_hints(None))
        self.fields["tax_percent"].widget.attrs["placeholder"] = _("item's tax")

    def is_empty(self) -> bool:
        if not self.is_bound:
            return True
        return not any(self.data.get(self.add_prefix(name), "").strip() for name in ("item", "description", "rate"))

    def clean(self):
        data = super().clean()
        if self.is_empty():
            return data
        if data.get("item") is None and "item" not in self.errors:
            if not data.get("description"):
                self.add_error("description", _("Enter a description, or choose an item."))
            if data.get("rate") is None and "rate" not in self.errors:
                self.add_error("rate", _("Enter a rate, or choose an item."))
        return data

    def line_input(self) -> LineInput:
        data = self.cleaned_data
        return LineInput(
            item=data.get("item"),
            description=data.get("description", ""),
            quantity=data["quantity"],
            rate=data.get("rate"),
            discount_percent=data.get("discount_percent"),
            tax_percent=data.get("tax_percent"),
        )


def row_count(request, filled: int) -> int:
    """Rows on the page: the document's lines plus empty ones; on a POST what the page had."""
    try:
        posted = int(request.POST.get("rows", ""))
    except ValueError:
        posted = 0
    return min(max(posted, filled + EMPTY_ROWS if not posted else 1), MAX_ROWS)


def line_rows(request, *, initial=(), with_discount: bool, customer: Customer | None = None) -> list[LineRowForm]:
    """The line rows of a document form; `customer` (when already known) names the effective terms shown."""
    count = row_count(request, len(initial))
    data = request.POST if request.method == "POST" else None
    hints = customer_hints(customer)
    return [
        LineRowForm(
            data,
            prefix=f"line-{i}",
            initial=initial[i] if i < len(initial) else None,
            with_discount=with_discount,
            hints=hints,
        )
        for i in range(count)
    ]


def filled_rows(rows) -> list:
    return [row for row in rows if not row.is_empty()]


def service_error_to_forms(exc: ValidationError, form: forms.Form, used_rows) -> None:
    """Put a service's error on the line it names ("Line 2: …"), else above the form."""
    for error in exc.error_list:
        n = (error.params or {}).get("n")
        if isinstance(n, int) and 1 <= n <= len(used_rows):
            used_rows[n - 1].add_error(None, error)
        else:
            form.add_error(None, error)


class CreditNoteForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=gettext_lazy("Customer"), queryset=Customer.objects.all(), widget=_customer_widget(CreditNote)
    )
    issued_on = forms.DateField(
        label=gettext_lazy("Credit note date"), initial=timezone.localdate, widget=AdminDateWidget
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=255, required=False)

    def __init__(self, *args, invoice: Invoice | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if invoice is not None:
            # From an invoice the customer is the invoice's: shown, not chosen.
            del self.fields["customer"]


class InvoiceCreditRowForm(forms.Form):
    """One invoiced line: how much of it to credit (quantity and rate up to what was invoiced)."""

    quantity = forms.DecimalField(label=gettext_lazy("Quantity"), max_digits=12, decimal_places=3)
    rate = MoneyFormField(label=gettext_lazy("Rate"))

    def __init__(self, *args, line, **kwargs):
        super().__init__(*args, initial={"quantity": plain_quantity(line.quantity), "rate": line.rate}, **kwargs)
        self.line = line
        self.fields["quantity"].validators += [
            _max(line.quantity, _("quantity"), plain_quantity(line.quantity)),
            _min_zero,
        ]
        self.fields["rate"].validators += [_max(line.rate, _("rate")), _min_zero]
        self.fields["quantity"].widget.attrs["size"] = 8
        self.fields["rate"].widget.attrs["size"] = 8

    def is_empty(self) -> bool:
        return self.is_valid() and self.cleaned_data["quantity"] == 0

    def line_input(self) -> LineInput:
        return LineInput(
            item=self.line.item,
            description=self.line.description,
            quantity=self.cleaned_data["quantity"],
            rate=self.cleaned_data["rate"],
            discount_percent=self.line.discount_percent,
            tax_percent=self.line.tax_percent,
        )


def plain_quantity(quantity: Decimal) -> Decimal:
    """3.000 -> 3, 2.500 -> 2.5: how a bookkeeper writes a quantity."""
    return quantity.quantize(Decimal(1)) if quantity == quantity.to_integral() else quantity.normalize()


def _max(limit: Decimal, what: str, shown=None):
    shown = limit if shown is None else shown

    def check(value):
        if value is not None and value > limit:
            raise ValidationError(
                _("At most %(limit)s: that is the invoiced %(what)s."), params={"limit": shown, "what": what}
            )

    return check


def _min_zero(value):
    if value is not None and value < 0:
        raise ValidationError(_("Enter zero or more."))


def invoice_credit_rows(request, invoice: Invoice) -> list[InvoiceCreditRowForm]:
    data = request.POST if request.method == "POST" else None
    return [InvoiceCreditRowForm(data, prefix=f"inv-{line.pk}", line=line) for line in invoice.lines.all()]


def credit_room(invoice: Invoice) -> dict:
    """What may still be credited on an invoice (the service checks it again under lock)."""
    credited = (
        CreditNote.objects.filter(invoice=invoice)
        .exclude(status=CreditNote.Status.VOID)
        .aggregate(s=Sum("total", default=ZERO))["s"]
    )
    return {
        "total": format_money(invoice.total, invoice.currency),
        "credited": format_money(credited, invoice.currency),
        "left": format_money(max(invoice.total - credited, ZERO), invoice.currency),
    }


class SalesOrderForm(forms.ModelForm):
    class Meta:
        model = SalesOrder
        fields = ("customer", "ordered_on", "expected_shipment_on", "reference", "notes")
        widgets = {
            "customer": _customer_widget(SalesOrder),
            "ordered_on": AdminDateWidget,
            "expected_shipment_on": AdminDateWidget,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ordered_on"].initial = timezone.localdate

    def clean(self):
        data = super().clean()
        shipment, ordered = data.get("expected_shipment_on"), data.get("ordered_on")
        if shipment and ordered and shipment < ordered:
            self.add_error("expected_shipment_on", _("The expected shipment is before the order date."))
        return data
