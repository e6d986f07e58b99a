"""Pieces every ledger admin shares: read-only inlines, the money-action views, small forms."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy

from billing.models import (
    Allocation,
    CreditApplication,
    Customer,
    Invoice,
    Payment,
    Refund,
    RetainerApplication,
)
from billing.money import MoneyFormField, format_money
from billing.selectors import customers_under, outstanding_invoices

from ..safety import SafeAdminMixin, SafeAutocompleteMixin, SafeAutocompleteSelect  # noqa: F401  (re-exported)


class InDocumentCurrency:
    """An inline's money columns in its parent document's currency ("$1,367.50", as the document's own
    totals): `amount_shown`, and `rate_shown` / `tax_amount_shown` for document lines. `fk_name` names the
    parent, read with the rows in one join, not a query per row. A blank new line shows nothing."""

    fk_name: str

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(self.fk_name)

    def _in_document_currency(self, row, value):
        return "" if value is None else format_money(value, getattr(row, self.fk_name).currency)

    @admin.display(description=gettext_lazy("amount"))
    def amount_shown(self, row):
        return self._in_document_currency(row, row.amount)

    @admin.display(description=gettext_lazy("rate"))
    def rate_shown(self, line):
        return self._in_document_currency(line, line.rate)

    @admin.display(description=gettext_lazy("tax amount"))
    def tax_amount_shown(self, line):
        return self._in_document_currency(line, line.tax_amount)


class ReadOnlyInline(InDocumentCurrency, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AllocationInline(ReadOnlyInline):
    model = Allocation
    fk_name = "invoice"
    fields = readonly_fields = ("payment", "amount_shown", "applied_on")
    verbose_name_plural = gettext_lazy("payments applied")


class PaymentAllocationInline(ReadOnlyInline):
    model = Allocation
    fk_name = "payment"
    fields = readonly_fields = ("invoice", "amount_shown", "applied_on")
    verbose_name_plural = gettext_lazy("allocations")


class CreditAppliedInline(ReadOnlyInline):
    model = CreditApplication
    fk_name = "invoice"
    fields = readonly_fields = ("credit_note", "amount_shown", "applied_on")
    verbose_name_plural = gettext_lazy("credits applied")


class RetainerAppliedInline(ReadOnlyInline):
    model = RetainerApplication
    fk_name = "invoice"
    fields = readonly_fields = ("retainer", "amount_shown", "applied_on")
    verbose_name_plural = gettext_lazy("retainers applied")


class RetainerUsedInline(ReadOnlyInline):
    model = RetainerApplication
    fk_name = "retainer"
    fields = readonly_fields = ("invoice", "amount_shown", "applied_on")
    verbose_name_plural = gettext_lazy("applied to invoices")


class CreditNoteApplicationInline(ReadOnlyInline):
    model = CreditApplication
    fk_name = "credit_note"
    fields = readonly_fields = ("invoice", "amount_shown", "applied_on")
    verbose_name_plural = gettext_lazy("applied to invoices")


def refund_inline(fk: str):
    return type(
        f"Refund{fk.title()}Inline",
        (ReadOnlyInline,),
        {
            "model": Refund,
            "fk_name": fk,
            # status: a failed or canceled gateway refund stays listed but gave nothing back
            "fields": ("amount_shown", "refunded_on", "method", "reference", "status"),
            "readonly_fields": ("amount_shown", "refunded_on", "method", "reference", "status"),
            "verbose_name_plural": gettext_lazy("refunds"),
        },
    )


def call_service_for_each(modeladmin, request, func, queryset, done_message):
    """Run `func(obj)` for each selected object; report each refusal, count successes."""
    done = 0
    for obj in queryset:
        try:
            func(obj)
        except ValidationError as exc:
            modeladmin.message_user(request, f"{obj}: {' '.join(exc.messages)}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done})


class StatementPeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False)
    end = forms.DateField(label=gettext_lazy("To"), required=False)
    branches = forms.BooleanField(label=gettext_lazy("Include branches open to this customer"), required=False)


class AmountForm(forms.Form):
    amount = MoneyFormField(label=gettext_lazy("Amount"))
    method = forms.ChoiceField(
        label=gettext_lazy("Paid back by"), choices=Payment.Method.choices, initial=Payment.Method.BANK_TRANSFER
    )
    reference = forms.CharField(label=gettext_lazy("Reference"), max_length=100, required=False)


class ApplyForm(forms.Form):
    invoice = forms.ModelChoiceField(label=gettext_lazy("Invoice"), queryset=Invoice.objects.none())
    amount = MoneyFormField(label=gettext_lazy("Amount"))

    def __init__(self, *args, payer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        # Offer only what the payer rule allows; the service checks again under lock.
        self.fields["invoice"].queryset = outstanding_invoices(customers=customers_under(customer_id=payer.pk))
        self.fields["invoice"].label_from_instance = lambda inv: (
            f"{inv.number} — {inv.customer.display_name} — {format_money(inv.balance_due, inv.currency)} due"
        )


class MoneyActionsMixin:
    """A get_urls() view per money action: a small form, the service call, the service's message."""

    money_views: tuple[tuple[str, str], ...] = ()  # (url name suffix, method name)

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        extra = [
            path(
                f"<int:object_id>/{suffix}/",
                self.admin_site.admin_view(getattr(self, method)),
                name=f"{info[0]}_{info[1]}_{suffix.replace('-', '_')}",
            )
            for suffix, method in self.money_views
        ]
        return extra + super().get_urls()

    def _money_form(self, request, object_id, *, title, form, run, done):
        if not self.has_change_permission(request):
            raise PermissionDenied
        obj = get_object_or_404(self.model, pk=object_id)
        if "amount" in form.fields:  # decimals and messages in the document's currency
            form.fields["amount"].currency = getattr(obj, "currency", None)
        if request.method == "POST" and form.is_valid():
            try:
                result = run(obj, form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)  # the service's message, figures included
            else:
                self.message_user(request, done(obj, result))
                info = self.model._meta.app_label, self.model._meta.model_name
                return redirect(f"admin:{info[0]}_{info[1]}_change", obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": title % {"obj": obj},
            "object": obj,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/billing/ledger/money_form.html", context)
