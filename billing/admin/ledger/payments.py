"""Payments: recorded offline through a view that calls record_payment; view-only afterwards."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import (
    Customer,
    Payment,
)
from billing.money import MoneyFormField, format_money
from billing.selectors import customers_under, outstanding_invoices
from billing.services import (
    allocate_oldest_first,
    record_payment,
    refund_payment,
)

from ..search import IndexedSearchMixin, RelatedSearch
from .common import (
    AmountForm,
    MoneyActionsMixin,
    PaymentAllocationInline,
    SafeAdminMixin,
    SafeAutocompleteSelect,
    call_service_for_each,
    refund_inline,
)


class RecordPaymentForm(forms.Form):
    amount = MoneyFormField(label=gettext_lazy("Amount received"))
    paid_on = forms.DateField(label=gettext_lazy("Payment date"), initial=timezone.localdate, widget=AdminDateWidget)
    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=Payment.Method.choices)
    reference = forms.CharField(
        label=gettext_lazy("Reference (cheque no., transfer id)"), max_length=100, required=False
    )
    notes = forms.CharField(label=gettext_lazy("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    oldest_first = forms.BooleanField(
        label=gettext_lazy("Apply what is not allocated below to the oldest due invoices"), required=False
    )
    # Shown only once the service refused a payment date before an invoice's issue date.
    confirm_early_date = forms.BooleanField(label=gettext_lazy("I confirm this date"), required=False)

    def __init__(self, *args, invoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.asks_date_confirmation = bool(self.data.get("confirm_early_date"))
        self.invoices = list(invoices)
        for invoice in self.invoices:
            self.fields[f"alloc_{invoice.pk}"] = MoneyFormField(
                label=f"{invoice.number} · {invoice.customer.display_name} · due {invoice.due_on:%Y-%m-%d} · "
                f"{format_money(invoice.balance_due, invoice.currency)}",
                currency=invoice.currency,
                required=False,
                help_text=""
                if invoice.allow_partial_payments
                else _("Partial payments are not allowed on this invoice: the customer expects to pay it in full."),
            )

    def allocations(self) -> dict[int, Decimal]:
        return {
            inv.pk: self.cleaned_data[f"alloc_{inv.pk}"]
            for inv in self.invoices
            if self.cleaned_data.get(f"alloc_{inv.pk}") is not None
        }

    def partial_on_full_only(self) -> list:
        """Invoices marked "no partial payments" that get less than their balance here.

        Not refused: a cheque or transfer that falls short is still money received (the portal
        refuses partial online payments). The bookkeeper is warned instead.
        """
        chosen = self.allocations()
        return [
            inv
            for inv in self.invoices
            if not inv.allow_partial_payments and 0 < chosen.get(inv.pk, 0) < inv.balance_due
        ]

    def allocation_fields(self):
        return [self[f"alloc_{inv.pk}"] for inv in self.invoices]


class PayerForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=gettext_lazy("Payer"),
        queryset=Customer.objects.all(),
        widget=SafeAutocompleteSelect(Payment._meta.get_field("customer"), admin.site),
    )


@admin.register(Payment)
class PaymentAdmin(SafeAdminMixin, MoneyActionsMixin, IndexedSearchMixin, admin.ModelAdmin):
    change_list_template = "admin/billing/ledger/change_list.html"
    change_form_template = "admin/billing/ledger/change_form.html"
    list_display = (
        "number",
        "customer",
        "paid_on",
        "amount_shown",
        "unallocated_shown",
        "refunded_shown",
        "method",
        "status",
        "reference",
    )
    list_filter = ("status", "method", "paid_on")
    search_fields = ("number", "reference", "customer__display_name")
    search_number, search_own = "number", ("number", "reference")
    search_related = (RelatedSearch("customer_id", Customer, ("display_name",)),)
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    date_hierarchy = "paid_on"
    inlines = (PaymentAllocationInline, refund_inline("payment"))
    actions = ("pay_oldest_first",)
    money_views = (("refund", "refund_view"),)
    readonly_fields = (
        "number",
        "customer",
        "currency",
        "amount_shown",
        "unallocated_shown",
        "refunded_shown",
        "paid_on",
        "method",
        "reference",
        "status",
        "failure_reason",
        "gateway",
        "gateway_payment_id",
        "notes",
        "recorded_by",
        "created_at",
        "money_links",
    )
    fields = readonly_fields  # the view-only page: figures once, with the currency

    def has_change_permission(self, request, obj=None):
        # View-only pages (no Save button): a payment is corrected by a new row, never edited.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_shown(self, payment):
        return format_money(payment.amount, payment.currency)

    @admin.display(description=gettext_lazy("unused (available credit)"), ordering="unallocated")
    def unallocated_shown(self, payment):
        return format_money(payment.unallocated, payment.currency)

    @admin.display(description=gettext_lazy("refunded"), ordering="refunded_amount")
    def refunded_shown(self, payment):
        return format_money(payment.refunded_amount, payment.currency)

    @admin.display(description=gettext_lazy("actions"))
    def money_links(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:billing_payment_refund", args=[obj.pk]), _("Refund (offline)")
        )

    def get_urls(self):
        return [
            path("record/", self.admin_site.admin_view(self.record_view), name="billing_payment_record"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:billing_payment_record")  # payments are recorded through the service

    def record_view(self, request):
        """Record an offline payment: choose the payer, then the amount and how it is allocated."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        payer_form = PayerForm(request.GET or None)
        payer = payer_form.cleaned_data["customer"] if payer_form.is_valid() else None
        form = None
        if payer is not None:
            invoices = outstanding_invoices(customers=customers_under(customer_id=payer.pk))
            form = RecordPaymentForm(request.POST or None, invoices=invoices)
            form.fields["amount"].currency = payer.currency
            if request.method == "POST" and form.is_valid():
                try:
                    with transaction.atomic():
                        payment = record_payment(
                            customer=payer,
                            amount=form.cleaned_data["amount"],
                            paid_on=form.cleaned_data["paid_on"],
                            method=form.cleaned_data["method"],
                            reference=form.cleaned_data["reference"],
                            notes=form.cleaned_data["notes"],
                            allocations=form.allocations(),
                            recorded_by=request.user,
                            confirm_early_date=form.cleaned_data["confirm_early_date"],
                        )
                        if form.cleaned_data["oldest_first"] and payment.unallocated > 0:
                            # Dated like the allocations above: the day the money came in.
                            allocate_oldest_first(
                                payment=payment,
                                applied_on=payment.paid_on,
                                confirm_early_date=form.cleaned_data["confirm_early_date"],
                            )
                except ValidationError as exc:
                    form.add_error(None, exc)
                    if any(getattr(e, "code", None) == "dated_before_invoice" for e in exc.error_list):
                        form.asks_date_confirmation = True
                else:
                    payment.refresh_from_db()
                    self.message_user(
                        request,
                        _("Payment %(n)s recorded; %(left)s left as credit.")
                        % {"n": payment.number, "left": format_money(payment.unallocated, payment.currency)},
                    )
                    for invoice in form.partial_on_full_only():
                        self.message_user(
                            request,
                            _(
                                "Invoice %(inv)s does not allow partial payments; %(paid)s of its %(due)s "
                                "was applied, so it is now partially paid. Check with the customer."
                            )
                            % {
                                "inv": invoice.number,
                                "paid": format_money(form.allocations()[invoice.pk], invoice.currency),
                                "due": format_money(invoice.balance_due, invoice.currency),
                            },
                            messages.WARNING,
                        )
                    return redirect("admin:billing_payment_change", payment.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record a payment"),
            "payer": payer,
            "payer_form": payer_form,
            "form": form,
            "opts": Payment._meta,
            "media": self.media + payer_form.media + (form.media if form else forms.Form().media),
        }
        return TemplateResponse(request, "admin/billing/ledger/record_payment.html", context)

    def refund_view(self, request, object_id):
        form = AmountForm(request.POST or None)
        return self._money_form(
            request,
            object_id,
            title=_("Refund payment %(obj)s (unallocated first, then newest allocations)"),
            form=form,
            run=lambda obj, d: refund_payment(
                payment=obj, amount=d["amount"], method=d["method"], reference=d["reference"]
            ),
            done=lambda obj, res: _("Refunded %(amount)s of %(p)s.") % {"amount": res.amount, "p": obj.number},
        )

    @admin.action(description=gettext_lazy("Apply unallocated money to the oldest due invoices"))
    def pay_oldest_first(self, request, queryset):
        call_service_for_each(
            self, request, lambda p: allocate_oldest_first(payment=p), queryset, _("%(count)d payment(s) applied.")
        )
