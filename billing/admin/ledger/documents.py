"""Credit notes (apply, refund), sales orders (convert to invoice) and subscriptions (bill now)."""

from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import (
    CreditNote,
    CreditNoteLine,
    Invoice,
    SalesOrder,
    SalesOrderLine,
    Subscription,
)
from billing.services import (
    apply_credit_note,
    bill_subscription,
    convert_sales_order_to_invoice,
    refund_credit_note,
    void_credit_note,
)

from .common import (
    AmountForm,
    ApplyForm,
    CreditNoteApplicationInline,
    MoneyActionsMixin,
    ReadOnlyInline,
    call_service_for_each,
    refund_inline,
)


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine
    fields = readonly_fields = (
        "item",
        "description",
        "quantity",
        "rate",
        "discount_percent",
        "tax_percent",
        "amount",
        "tax_amount",
    )


@admin.register(CreditNote)
class CreditNoteAdmin(MoneyActionsMixin, admin.ModelAdmin):
    list_display = ("number", "customer", "issued_on", "invoice", "total", "balance", "status")
    list_filter = ("status", "issued_on")
    search_fields = ("number", "reason", "customer__display_name", "invoice__number")
    list_select_related = ("customer", "invoice")
    autocomplete_fields = ("customer", "invoice")
    inlines = (CreditNoteLineInline, CreditNoteApplicationInline, refund_inline("credit_note"))
    money_views = (("apply", "apply_view"), ("refund", "refund_view"))
    actions = ("void_selected",)
    readonly_fields = (
        "number",
        "customer",
        "invoice",
        "currency",
        "issued_on",
        "reason",
        "subtotal",
        "tax_total",
        "total",
        "balance",
        "status",
        "money_links",
    )

    def has_add_permission(self, request):
        return False  # issued by create_credit_note (from an invoice's page, the API, or the demo)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)  # view-only page; actions stay

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("actions"))
    def money_links(self, obj):
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:billing_creditnote_apply", args=[obj.pk]),
            _("Apply to an invoice"),
            reverse("admin:billing_creditnote_refund", args=[obj.pk]),
            _("Refund"),
        )

    @admin.action(description=gettext_lazy("Void selected credit notes (only if nothing was applied or refunded)"))
    def void_selected(self, request, queryset):
        call_service_for_each(
            self,
            request,
            lambda note: void_credit_note(credit_note=note),
            queryset,
            _("%(count)d credit note(s) voided."),
        )

    def apply_view(self, request, object_id):
        note = get_object_or_404(CreditNote, pk=object_id)
        form = ApplyForm(request.POST or None, payer=note.customer)
        return self._money_form(
            request,
            object_id,
            title=_("Apply credit note %(obj)s"),
            form=form,
            run=lambda obj, d: apply_credit_note(credit_note=obj, applications={d["invoice"].pk: d["amount"]}),
            done=lambda obj, res: _("Credit note %(n)s applied.") % {"n": obj.number},
        )

    def refund_view(self, request, object_id):
        form = AmountForm(request.POST or None)
        return self._money_form(
            request,
            object_id,
            title=_("Refund credit note %(obj)s"),
            form=form,
            run=lambda obj, d: refund_credit_note(
                credit_note=obj, amount=d["amount"], method=d["method"], reference=d["reference"]
            ),
            done=lambda obj, res: _("Refunded %(amount)s of %(n)s.") % {"amount": res.amount, "n": obj.number},
        )


class SalesOrderLineInline(ReadOnlyInline):
    model = SalesOrderLine
    fields = readonly_fields = (
        "item",
        "description",
        "quantity",
        "quantity_invoiced",
        "rate",
        "discount_percent",
        "tax_percent",
        "amount",
    )


class SalesOrderInvoiceInline(ReadOnlyInline):
    model = Invoice
    fk_name = "sales_order"
    fields = readonly_fields = ("number", "issued_on", "status", "total")
    verbose_name_plural = gettext_lazy("invoices")


@admin.register(SalesOrder)
class SalesOrderAdmin(admin.ModelAdmin):
    list_display = ("number", "customer", "ordered_on", "status", "invoiced_status", "total")
    list_filter = ("status", "invoiced_status", "ordered_on")
    search_fields = ("number", "reference", "customer__display_name", "crm_deal_name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    inlines = (SalesOrderLineInline, SalesOrderInvoiceInline)
    actions = ("convert_to_invoice",)
    readonly_fields = (
        "number",
        "customer",
        "currency",
        "invoiced_status",
        "ordered_on",
        "subtotal",
        "discount_total",
        "tax_total",
        "total",
        "crm_deal_id",
        "crm_deal_name",
        "first_viewed_at",
    )

    def has_add_permission(self, request):
        return False  # created by create_sales_order (CRM deals, the demo)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)  # view-only page; actions stay

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("Convert to a draft invoice (everything not yet invoiced)"))
    def convert_to_invoice(self, request, queryset):
        call_service_for_each(
            self,
            request,
            lambda so: convert_sales_order_to_invoice(sales_order=so, created_by=request.user),
            queryset,
            _("%(count)d draft invoice(s) created."),
        )


class SubscriptionInvoiceInline(ReadOnlyInline):
    model = Invoice
    fk_name = "subscription"
    fields = readonly_fields = ("number", "billing_period_start", "status", "total", "balance_due")
    verbose_name_plural = gettext_lazy("invoices")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Plans are edited freely (they hold no money); their invoices come from bill_subscription."""

    list_display = ("plan_name", "customer", "price", "currency", "billing_period", "next_billing_on", "status")
    list_filter = ("status", "billing_period")
    search_fields = ("plan_name", "customer__display_name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer", "item")
    inlines = (SubscriptionInvoiceInline,)
    actions = ("bill_now",)

    def get_readonly_fields(self, request, obj=None):
        return ("currency",) if obj else ()

    def save_model(self, request, obj, form, change):
        obj.currency = obj.customer.currency
        super().save_model(request, obj, form, change)

    @admin.action(description=gettext_lazy("Invoice every period due by today"))
    def bill_now(self, request, queryset):
        today = timezone.localdate()
        call_service_for_each(
            self,
            request,
            lambda sub: bill_subscription(subscription=sub, today=today),
            queryset,
            _("%(count)d subscription(s) billed up to today."),
        )
