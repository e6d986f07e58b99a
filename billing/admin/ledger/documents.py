"""Credit notes (issue, apply, refund, void) and subscriptions (bill now). Sales orders: sales_orders.py."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import (
    CreditNote,
    CreditNoteLine,
    Customer,
    Invoice,
    Subscription,
)
from billing.money import format_money
from billing.services import (
    apply_credit_note,
    bill_subscription,
    create_credit_note,
    refund_credit_note,
    void_credit_note,
)

from ..search import IndexedSearchMixin, RelatedSearch
from .common import (
    AmountForm,
    ApplyForm,
    CreditNoteApplicationInline,
    MoneyActionsMixin,
    ReadOnlyInline,
    SafeAdminMixin,
    call_service_for_each,
    refund_inline,
)
from .effective import EFFECTIVE_TERMS_JS, customer_hints, hint_effective_fields
from .entry import (
    CreditNoteForm,
    credit_room,
    invoice_credit_rows,
    line_rows,
    service_error_to_forms,
)


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine
    fk_name = "credit_note"
    fields = readonly_fields = (
        "item",
        "description",
        "quantity",
        "rate_shown",
        "discount_percent",
        "tax_percent",
        "amount_shown",
        "tax_amount_shown",
    )


@admin.register(CreditNote)
class CreditNoteAdmin(SafeAdminMixin, MoneyActionsMixin, IndexedSearchMixin, admin.ModelAdmin):
    change_list_template = "admin/billing/ledger/change_list.html"
    change_form_template = "admin/billing/ledger/change_form.html"
    list_display = ("number", "customer", "issued_on", "invoice", "total_shown", "balance_shown", "status")
    list_filter = ("status", "issued_on")
    search_fields = ("number", "reason", "customer__display_name", "invoice__number")
    search_number, search_own = "number", ("number", "reason")
    search_related = (
        RelatedSearch("customer_id", Customer, ("display_name",)),
        RelatedSearch("invoice_id", Invoice, ("number",)),
    )
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
        "subtotal_shown",
        "tax_shown",
        "total_shown",
        "balance_shown",
        "status",
        "money_links",
    )
    fields = readonly_fields  # the view-only page: figures once, with the currency

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)  # view-only page; actions stay

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("subtotal"))
    def subtotal_shown(self, note):
        return format_money(note.subtotal, note.currency)

    @admin.display(description=gettext_lazy("tax"))
    def tax_shown(self, note):
        return format_money(note.tax_total, note.currency)

    @admin.display(description=gettext_lazy("total"), ordering="total")
    def total_shown(self, note):
        return format_money(note.total, note.currency)

    @admin.display(description=gettext_lazy("credit remaining"), ordering="balance")
    def balance_shown(self, note):
        return format_money(note.balance, note.currency)

    def get_urls(self):
        return [
            path("create/", self.admin_site.admin_view(self.create_view), name="billing_creditnote_create"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:billing_creditnote_create")  # issued through create_credit_note

    def create_view(self, request):
        """Issue a credit note: free-standing, or with ?invoice=<id> from that invoice's lines."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        invoice = None
        raw = request.GET.get("invoice", "")
        if raw:
            if not raw.isdigit():
                raise Http404
            invoice = get_object_or_404(Invoice.objects.regular().select_related("customer"), pk=int(raw))
            if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
                self.message_user(
                    request,
                    _("Invoice %(inv)s is %(status)s; only sent invoices are credited. Edit or void it instead.")
                    % {"inv": invoice.number, "status": invoice.get_status_display().lower()},
                    messages.ERROR,
                )
                return redirect("admin:billing_invoice_change", invoice.pk)
        posted = request.POST if request.method == "POST" else None
        form = CreditNoteForm(posted, invoice=invoice)
        rows = invoice_credit_rows(request, invoice) if invoice else line_rows(request, with_discount=True)
        if posted is not None:
            used = [row for row in rows if not row.is_empty()]
            rows_valid = all([row.is_valid() for row in used])  # a list: every row shows its errors
            if form.is_valid() and rows_valid:
                try:
                    note = create_credit_note(
                        customer=form.cleaned_data.get("customer"),
                        invoice=invoice,
                        lines=[row.line_input() for row in used],
                        issued_on=form.cleaned_data["issued_on"],
                        reason=form.cleaned_data["reason"],
                        effective_discount=True,  # an empty discount is the customer's, as on invoices
                    )
                except ValidationError as exc:
                    service_error_to_forms(exc, form, used)
                else:
                    self.message_user(
                        request,
                        _("Credit note %(n)s issued for %(total)s; apply it to an invoice or refund it.")
                        % {"n": note.number, "total": format_money(note.total, note.currency)},
                    )
                    return redirect("admin:billing_creditnote_change", note.pk)
        if invoice is not None:
            room = credit_room(invoice)
            intro = _(
                "Crediting invoice %(inv)s of %(customer)s: it totals %(total)s, %(credited)s is already "
                "credited, so at most %(left)s more can be credited."
            ) % {"inv": invoice.number, "customer": invoice.customer.display_name, **room}
            lines_help = _(
                "Set the quantity to credit for each invoiced line (0 leaves it out); a lower rate "
                "credits part of the price. Tax and discount are the invoice's."
            )
            cancel = reverse("admin:billing_invoice_change", args=[invoice.pk])
        else:
            intro = ""
            lines_help = _(
                "Choose an item to use the customer's price (leave the rate empty), or type a "
                "description and a rate. Empty discount: the customer's discount (its own, else its group's); "
                "0: none. Empty tax: the item's tax rate. Empty rows are ignored."
            )
            cancel = reverse("admin:billing_creditnote_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Issue a credit note")
            if invoice is None
            else _("Credit invoice %(inv)s") % {"inv": invoice.number},
            "opts": CreditNote._meta,
            "form": form,
            "rows": rows,
            "invoice_rows": invoice is not None,
            "intro": intro,
            "lines_help": lines_help,
            "buttons": [("_save", _("Issue credit note"))],
            "cancel_url": cancel,
            "media": self.media + form.media + (rows[0].media if rows else forms.Form().media),
        }
        return TemplateResponse(request, "admin/billing/ledger/document_form.html", context)

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
            done=lambda obj, res: _("Refunded %(amount)s of %(n)s.")
            % {"amount": format_money(res.amount, obj.currency), "n": obj.number},
        )


class SubscriptionInvoiceInline(ReadOnlyInline):
    model = Invoice
    fk_name = "subscription"
    fields = readonly_fields = ("number", "billing_period_start", "status", "total_shown", "balance_shown")
    verbose_name_plural = gettext_lazy("invoices")

    @admin.display(description=gettext_lazy("total"))
    def total_shown(self, invoice):
        return format_money(invoice.total, invoice.currency)

    @admin.display(description=gettext_lazy("balance due"))
    def balance_shown(self, invoice):
        return format_money(invoice.balance_due, invoice.currency)


class SubscriptionForm(forms.ModelForm):
    """Empty price = the customer's price of the item; empty discount = its effective discount, both taken
    when each period is billed; a typed value (0 included) is kept."""

    class Meta:
        model = Subscription
        fields = (
            "customer",
            "plan_name",
            "item",
            "quantity",
            "price",
            "discount_percent",
            "currency",
            "billing_period",
            "starts_on",
            "next_billing_on",
            "ends_on",
            "status",
        )

    class Media:
        js = [EFFECTIVE_TERMS_JS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        customer = self.instance.customer if self.instance.customer_id else None
        hint_effective_fields(self, customer_hints(customer), rate="price")
        if "price" in self.fields:
            self.fields["price"].widget.attrs["placeholder"] = _("customer's price for the item")


@admin.register(Subscription)
class SubscriptionAdmin(SafeAdminMixin, admin.ModelAdmin):
    """Plans are edited freely (they hold no money); their invoices come from bill_subscription."""

    form = SubscriptionForm

    change_list_template = "admin/billing/ledger/change_list.html"
    change_form_template = "admin/billing/ledger/change_form.html"

    list_display = ("plan_name", "customer", "price_shown", "currency", "billing_period", "next_billing_on", "status")
    list_filter = ("status", "billing_period")
    search_fields = ("plan_name", "customer__display_name")
    list_select_related = ("customer", "item")
    autocomplete_fields = ("customer", "item")
    inlines = (SubscriptionInvoiceInline,)
    actions = ("bill_now",)

    def get_readonly_fields(self, request, obj=None):
        return ("currency",) if obj else ()

    @admin.display(description=gettext_lazy("price per period"), ordering="price")
    def price_shown(self, sub):
        if sub.price is None:
            return _("customer's price for %(item)s") % {"item": sub.item}
        return format_money(sub.price, sub.currency)

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
