"""Invoices and retainer invoices: lines while draft, send/void actions, the customer statement page."""

from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import (
    Customer,
    Invoice,
    InvoiceLine,
    RetainerInvoice,
)
from billing.money import format_money
from billing.selectors import customers_under, effective_price, effective_terms, statement
from billing.selectors.statements import account_columns
from billing.services import (
    apply_retainer,
    create_invoice,
    recalculate_draft_invoice,
    refund_retainer,
    send_invoices,
    void_invoice,
)

from ..extensions import ExtensibleAdminMixin
from ..search import IndexedSearchMixin, RelatedSearch
from .common import (
    AllocationInline,
    AmountForm,
    ApplyForm,
    CreditAppliedInline,
    InDocumentCurrency,
    MoneyActionsMixin,
    RetainerAppliedInline,
    RetainerUsedInline,
    SafeAdminMixin,
    SafeAutocompleteMixin,
    StatementPeriodForm,
    call_service_for_each,
    refund_inline,
)
from .effective import EFFECTIVE_TERMS_JS, customer_hints, effective_terms_json, hint_effective_fields


class InvoiceStatusFilter(admin.SimpleListFilter):
    """The statuses plus "Overdue" (open and past due), which is not stored."""

    title = gettext_lazy("status")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [*Invoice.Status.choices[:3], ("overdue", _("Overdue")), *Invoice.Status.choices[3:]]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "overdue":
            return queryset.overdue()
        if value in Invoice.Status.values:
            return queryset.filter(status=value)
        return queryset


class InvoiceLineForm(forms.ModelForm):
    """Empty rate = the customer's effective price of the item; empty discount = its effective discount;
    a typed value (0 included) is kept. A new line starts empty, not with the columns' default of 0: a
    pre-filled 0 was posted back as an explicit "no discount" and a Partners customer lost its 2%."""

    hints = None  # the invoice's customer's, set per formset by InvoiceLineInline

    class Meta:
        model = InvoiceLine
        fields = ("item", "description", "quantity", "rate", "discount_percent", "tax_percent")

    class Media:
        js = [EFFECTIVE_TERMS_JS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("rate", "discount_percent", "tax_percent", "description"):
            if name in self.fields:  # absent when the lines are read-only (sent invoice)
                self.fields[name].required = False
                if self.instance.pk is None:  # not the column's default of 0
                    self.initial.pop(name, None)
                    self.fields[name].initial = None
        hint_effective_fields(self, self.hints or customer_hints(None))
        if "tax_percent" in self.fields:
            self.fields["tax_percent"].widget.attrs["placeholder"] = _("item's tax")

    def clean(self):
        data = super().clean()
        invoice = data.get("invoice")  # the inline's parent (unsaved on "add", its customer already set)
        if invoice is not None and invoice.customer_id is None:
            return data  # the invoice form has its own error
        item = data.get("item")
        if not data.get("description"):
            if item is None:
                raise ValidationError(_("Give the line a description or an item."))
            data["description"] = item.name
        if data.get("rate") is None:
            if item is None or invoice is None:
                raise ValidationError(_("Enter a rate, or choose an item to use the customer's price."))
            data["rate"] = effective_price(customer=invoice.customer, item=item)
        if data.get("discount_percent") is None:
            data["discount_percent"] = effective_terms(customer=invoice.customer).discount_percent if invoice else 0
        if data.get("tax_percent") is None:
            data["tax_percent"] = item.tax_percent if item else Decimal("0")
        return data


class InvoiceLineInline(SafeAutocompleteMixin, InDocumentCurrency, admin.TabularInline):
    """Lines are edited only while the invoice is a draft; amounts are computed by the service and shown in
    the invoice's currency, as is the rate once the lines are read-only."""

    model = InvoiceLine
    fk_name = "invoice"
    form = InvoiceLineForm
    extra = 1
    autocomplete_fields = ("item",)
    readonly_fields = ("amount_shown", "tax_amount_shown")
    fields = ("item", "description", "quantity", "rate", "discount_percent", "tax_percent", *readonly_fields)
    sent_fields = ("item", "description", "quantity", "rate_shown", "discount_percent", "tax_percent",
                   *readonly_fields)

    def _draft(self, obj):
        return obj is None or obj.status == Invoice.Status.DRAFT

    def get_formset(self, request, obj=None, **kwargs):
        # The customer's effective terms once per page, not once per line.
        if self._draft(obj):
            hints = customer_hints(obj.customer if obj is not None else None)
            kwargs["form"] = type("InvoiceLineForm", (self.form,), {"hints": hints})
        return super().get_formset(request, obj, **kwargs)

    def has_add_permission(self, request, obj=None):
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._draft(obj) and super().has_delete_permission(request, obj)

    def get_fields(self, request, obj=None):
        return self.fields if self._draft(obj) else self.sent_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if self._draft(obj) else self.sent_fields


class InvoiceForm(forms.ModelForm):
    class Meta:
        model = Invoice
        fields = (
            "customer",
            "issued_on",
            "due_on",
            "reference",
            "allow_partial_payments",
            "notes",
            "terms",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "due_on" in self.fields:
            self.fields["due_on"].required = False
            self.fields["due_on"].help_text = _("Empty: from the customer's effective payment terms.")
        if "issued_on" in self.fields:
            self.fields["issued_on"].initial = timezone.localdate

    def clean(self):
        data = super().clean()
        if data.get("due_on") and data.get("issued_on") and data["due_on"] < data["issued_on"]:
            self.add_error("due_on", _("The due date is before the invoice date."))
        return data


@admin.register(Invoice)
class InvoiceAdmin(SafeAdminMixin, ExtensibleAdminMixin, IndexedSearchMixin, admin.ModelAdmin):
    change_list_template = "admin/billing/ledger/change_list.html"
    change_form_template = "admin/billing/ledger/change_form.html"
    form = InvoiceForm
    list_display = ("number", "customer", "issued_on", "due_on", "status_shown", "total_shown", "balance_shown")
    list_filter = (InvoiceStatusFilter, "issued_on", "customer__group")
    search_fields = ("number", "reference", "customer__display_name")
    search_number, search_own = "number", ("number", "reference")
    search_related = (RelatedSearch("customer_id", Customer, ("display_name",)),)
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    date_hierarchy = "issued_on"
    # billing_invoice_regular_issued (issued_on, over the invoices that are not retainers): billing/admin/dates.py
    date_hierarchy_indexed = True
    inlines = (InvoiceLineInline, AllocationInline, CreditAppliedInline, RetainerAppliedInline)
    actions = ("send_selected", "void_selected")
    # Figures come first on the page, with the currency and the status the list shows ("Overdue").
    amounts = (
        "number",
        "status_shown",
        "currency",
        "subtotal_shown",
        "discount_shown",
        "tax_shown",
        "total_shown",
        "balance_shown",
        "retainer_unused_shown",
        "sent_at",
        "voided_at",
        "first_viewed_at",
        "sales_order",
        "subscription",
    )
    is_retainer = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_retainer=self.is_retainer)

    def _amounts(self):
        # "Unused retainer" only means something on a retainer invoice.
        return self.amounts if self.is_retainer else tuple(f for f in self.amounts if f != "retainer_unused_shown")

    def get_fields(self, request, obj=None):
        fields = list(InvoiceForm.Meta.fields)
        if obj is None:
            return fields
        links = [] if self.is_retainer else ["document_links"]
        # Who and when, then the figures, then the free text and the history.
        amounts = list(self._amounts())
        head, tail = amounts[: amounts.index("sent_at")], amounts[amounts.index("sent_at") :]
        when = ["customer", "issued_on", "due_on"]
        return [*links, head[0], *when, *head[1:], *(f for f in fields if f not in when), *tail]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        links = () if self.is_retainer else ("document_links",)
        if obj.status == Invoice.Status.DRAFT:
            return (*links, "customer", *self._amounts())
        # Sent: amounts are frozen; a correction is a credit note.
        return (*links, "customer", "issued_on", "due_on", "allow_partial_payments", *self._amounts())

    @admin.display(description=gettext_lazy("next steps"))
    def document_links(self, invoice):
        links = []
        if invoice.is_open:
            url = reverse("admin:billing_payment_record") + f"?customer={invoice.customer_id}"
            links.append((url, _("Record a payment")))
        if invoice.status not in (Invoice.Status.DRAFT, Invoice.Status.VOID):
            url = reverse("admin:billing_creditnote_create") + f"?invoice={invoice.pk}"
            links.append((url, _("Issue a credit note")))
        links.append((reverse("admin:billing_customer_statement", args=[invoice.customer_id]), _("Statement")))
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def has_delete_permission(self, request, obj=None):
        return False  # numbers are gap-free: void instead

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_shown(self, invoice):
        return invoice.display_status

    @admin.display(description=gettext_lazy("subtotal (before discount)"))
    def subtotal_shown(self, invoice):
        # Subtotal − discount + tax = total as printed: `subtotal` is stored net of the line discounts.
        return format_money(invoice.subtotal_before_discount, invoice.currency)

    @admin.display(description=gettext_lazy("discount"))
    def discount_shown(self, invoice):
        return format_money(invoice.discount_total, invoice.currency)

    @admin.display(description=gettext_lazy("tax"))
    def tax_shown(self, invoice):
        return format_money(invoice.tax_total, invoice.currency)

    @admin.display(description=gettext_lazy("total"), ordering="total")
    def total_shown(self, invoice):
        return format_money(invoice.total, invoice.currency)

    @admin.display(description=gettext_lazy("unused retainer"), ordering="retainer_unused")
    def retainer_unused_shown(self, invoice):
        return format_money(invoice.retainer_unused, invoice.currency)

    @admin.display(description=gettext_lazy("balance due"), ordering="balance_due")
    def balance_shown(self, invoice):
        return format_money(invoice.balance_due, invoice.currency)

    def save_model(self, request, obj, form, change):
        if change:
            # Only non-amount fields are editable here; amounts move through services.
            obj.save()
            return
        data = form.cleaned_data
        created = create_invoice(
            customer=data["customer"],
            lines=[],
            require_lines=False,
            issued_on=data["issued_on"],
            due_on=data.get("due_on"),
            is_retainer=self.is_retainer,
            reference=data.get("reference", ""),
            notes=data.get("notes", ""),
            terms=data.get("terms", ""),
            allow_partial_payments=data.get("allow_partial_payments", True),
            created_by=request.user,
        )
        obj.pk, obj.number, obj.due_on, obj.created_at = created.pk, created.number, created.due_on, created.created_at
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if form.instance.status == Invoice.Status.DRAFT:
            recalculate_draft_invoice(invoice=form.instance)

    @admin.action(description=gettext_lazy("Send selected draft invoices"))
    def send_selected(self, request, queryset):
        try:
            sent = send_invoices(invoices=queryset, sent_by=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, _("%(count)d invoice(s) sent.") % {"count": len(sent)})

    @admin.action(description=gettext_lazy("Void selected invoices (only without payments or credits)"))
    def void_selected(self, request, queryset):
        call_service_for_each(
            self, request, lambda inv: void_invoice(invoice=inv), queryset, _("%(count)d invoice(s) voided.")
        )

    def get_urls(self):
        extra = (
            [
                path(
                    "statement/<int:customer_id>/",
                    self.admin_site.admin_view(self.statement_view),
                    name="billing_customer_statement",
                ),
                path(
                    "effective-terms/",
                    self.admin_site.admin_view(effective_terms_json),
                    name="billing_effective_terms",
                ),
            ]
            if not self.is_retainer
            else []
        )
        return extra + super().get_urls()

    def statement_view(self, request, customer_id: int):
        """The customer's statement of accounts for a period (default: this year to date)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=customer_id)
        form = StatementPeriodForm(request.GET or None)
        today = timezone.localdate()
        start, end, branches = date(today.year, 1, 1), today, False
        if form.is_valid():
            start = form.cleaned_data["start"] or start
            end = form.cleaned_data["end"] or end
            branches = form.cleaned_data["branches"]
        customers = customers_under(customer_id=customer.pk) if branches else Customer.objects.filter(pk=customer.pk)
        result = statement(customers=customers, start=start, end=end)
        # the per-account table of a consolidated statement: the portal page's and the PDF's columns
        columns = account_columns(result.totals) if result.is_consolidated else []
        context = {
            **self.admin_site.each_context(request),
            "title": _("Statement of accounts: %(name)s") % {"name": customer.display_name},
            "customer": customer,
            "statement": result,
            "account_columns": columns,
            "account_rows": [
                (subtotals, [(column, column.amount(subtotals)) for column in columns])
                for subtotals in [*result.accounts, result.totals]
            ]
            if result.is_consolidated
            else [],
            "form": form,
            "start": start,
            "end": end,
            "branches": branches,
            "opts": Customer._meta,
        }
        return TemplateResponse(request, "admin/billing/ledger/statement.html", context)


@admin.register(RetainerInvoice)
class RetainerInvoiceAdmin(MoneyActionsMixin, InvoiceAdmin):
    is_retainer = True
    date_hierarchy_indexed = False  # the issued_on index covers regular invoices only; retainers are few
    list_display = (
        "number",
        "customer",
        "issued_on",
        "status_shown",
        "total_shown",
        "balance_shown",
        "retainer_unused_shown",
    )
    list_filter = (InvoiceStatusFilter, "issued_on")
    inlines = (InvoiceLineInline, AllocationInline, RetainerUsedInline, refund_inline("retainer"))
    money_views = (("apply", "apply_view"), ("refund", "refund_view"))

    def apply_view(self, request, object_id):
        retainer = get_object_or_404(Invoice, pk=object_id, is_retainer=True)
        form = ApplyForm(request.POST or None, payer=retainer.customer)
        return self._money_form(
            request,
            object_id,
            title=_("Apply retainer %(obj)s to an invoice"),
            form=form,
            run=lambda obj, d: apply_retainer(retainer=obj, applications={d["invoice"].pk: d["amount"]}),
            done=lambda obj, res: _("Retainer %(r)s applied.") % {"r": obj.number},
        )

    def refund_view(self, request, object_id):
        form = AmountForm(request.POST or None)
        return self._money_form(
            request,
            object_id,
            title=_("Refund unused retainer %(obj)s"),
            form=form,
            run=lambda obj, d: refund_retainer(
                retainer=obj, amount=d["amount"], method=d["method"], reference=d["reference"]
            ),
            done=lambda obj, res: _("Refunded %(amount)s of %(r)s.")
            % {"amount": format_money(res.amount, obj.currency), "r": obj.number},
        )

    @admin.display(description=gettext_lazy("actions"))
    def money_links(self, obj):
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:billing_retainerinvoice_apply", args=[obj.pk]),
            _("Apply"),
            reverse("admin:billing_retainerinvoice_refund", args=[obj.pk]),
            _("Refund"),
        )

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if obj is None else [*fields, "money_links"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if obj is None else (*fields, "money_links")
