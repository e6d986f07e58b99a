"""Admin for invoices, retainers, payments, credit notes, sales orders and subscriptions.

Ledger rows are written only by services: actions and the get_urls() views below call them and
show their ValidationError with message_user or on the form. Payments, allocations, credit
applications and refunds are never edited or deleted here; a correction is a new row.
"""

from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import (
    Allocation,
    CreditApplication,
    CreditNote,
    CreditNoteLine,
    Customer,
    Invoice,
    InvoiceLine,
    Payment,
    Refund,
    RetainerApplication,
    RetainerInvoice,
    SalesOrder,
    SalesOrderLine,
    Subscription,
)
from billing.money import format_money
from billing.selectors import customers_under, effective_price, effective_terms, outstanding_invoices, statement
from billing.services import (
    allocate_oldest_first,
    apply_credit_note,
    apply_retainer,
    bill_subscription,
    convert_sales_order_to_invoice,
    create_invoice,
    recalculate_draft_invoice,
    record_payment,
    refund_credit_note,
    refund_payment,
    refund_retainer,
    send_invoices,
    void_invoice,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AllocationInline(ReadOnlyInline):
    model = Allocation
    fk_name = "invoice"
    fields = readonly_fields = ("payment", "amount", "applied_on")
    verbose_name_plural = gettext_lazy("payments applied")


class PaymentAllocationInline(ReadOnlyInline):
    model = Allocation
    fk_name = "payment"
    fields = readonly_fields = ("invoice", "amount", "applied_on")
    verbose_name_plural = gettext_lazy("allocations")


class CreditAppliedInline(ReadOnlyInline):
    model = CreditApplication
    fk_name = "invoice"
    fields = readonly_fields = ("credit_note", "amount", "applied_on")
    verbose_name_plural = gettext_lazy("credits applied")


class RetainerAppliedInline(ReadOnlyInline):
    model = RetainerApplication
    fk_name = "invoice"
    fields = readonly_fields = ("retainer", "amount", "applied_on")
    verbose_name_plural = gettext_lazy("retainers applied")


class RetainerUsedInline(ReadOnlyInline):
    model = RetainerApplication
    fk_name = "retainer"
    fields = readonly_fields = ("invoice", "amount", "applied_on")
    verbose_name_plural = gettext_lazy("applied to invoices")


class CreditNoteApplicationInline(ReadOnlyInline):
    model = CreditApplication
    fk_name = "credit_note"
    fields = readonly_fields = ("invoice", "amount", "applied_on")
    verbose_name_plural = gettext_lazy("applied to invoices")


def _refund_inline(fk: str):
    return type(
        f"Refund{fk.title()}Inline",
        (ReadOnlyInline,),
        {
            "model": Refund,
            "fk_name": fk,
            "fields": ("amount", "refunded_on", "method", "reference"),
            "readonly_fields": ("amount", "refunded_on", "method", "reference"),
            "verbose_name_plural": gettext_lazy("refunds"),
        },
    )


class InvoiceLineForm(forms.ModelForm):
    """Empty rate = the customer's effective price of the item; empty discount = its effective discount."""

    class Meta:
        model = InvoiceLine
        fields = ("item", "description", "quantity", "rate", "discount_percent", "tax_percent")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("rate", "discount_percent", "tax_percent", "description"):
            if name in self.fields:  # absent when the lines are read-only (sent invoice)
                self.fields[name].required = False

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


class InvoiceLineInline(admin.TabularInline):
    """Lines are edited only while the invoice is a draft; amounts are computed by the service."""

    model = InvoiceLine
    form = InvoiceLineForm
    extra = 1
    autocomplete_fields = ("item",)
    readonly_fields = ("amount", "tax_amount")
    fields = ("item", "description", "quantity", "rate", "discount_percent", "tax_percent", "amount", "tax_amount")

    def _draft(self, obj):
        return obj is None or obj.status == Invoice.Status.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._draft(obj) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if self._draft(obj) else self.fields


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
            "crm_deal_id",
            "crm_deal_name",
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


def _service_call(modeladmin, request, func, queryset, done_message):
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


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    form = InvoiceForm
    list_display = ("number", "customer", "issued_on", "due_on", "status_shown", "total_shown", "balance_shown")
    list_filter = ("status", "issued_on", "customer__group")
    search_fields = ("number", "reference", "customer__display_name", "crm_deal_name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    date_hierarchy = "issued_on"
    inlines = (InvoiceLineInline, AllocationInline, CreditAppliedInline, RetainerAppliedInline)
    actions = ("send_selected", "void_selected")
    amounts = (
        "number",
        "status",
        "subtotal",
        "discount_total",
        "tax_total",
        "total",
        "balance_due",
        "retainer_unused",
        "sent_at",
        "voided_at",
        "first_viewed_at",
        "sales_order",
        "subscription",
    )
    is_retainer = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_retainer=self.is_retainer)

    def get_fields(self, request, obj=None):
        fields = list(InvoiceForm.Meta.fields)
        return fields if obj is None else [*fields, *self.amounts]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.status == Invoice.Status.DRAFT:
            return ("customer", *self.amounts)
        # Sent: amounts are frozen; a correction is a credit note.
        return ("customer", "issued_on", "due_on", "allow_partial_payments", "crm_deal_id", *self.amounts)

    def has_delete_permission(self, request, obj=None):
        return False  # numbers are gap-free: void instead

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_shown(self, invoice):
        return invoice.display_status

    @admin.display(description=gettext_lazy("total"), ordering="total")
    def total_shown(self, invoice):
        return format_money(invoice.total, invoice.currency)

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
            crm_deal_id=data.get("crm_deal_id", ""),
            crm_deal_name=data.get("crm_deal_name", ""),
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
        _service_call(self, request, lambda inv: void_invoice(invoice=inv), queryset, _("%(count)d invoice(s) voided."))

    def get_urls(self):
        extra = (
            [
                path(
                    "statement/<int:customer_id>/",
                    self.admin_site.admin_view(self.statement_view),
                    name="billing_customer_statement",
                )
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
        context = {
            **self.admin_site.each_context(request),
            "title": _("Statement of accounts: %(name)s") % {"name": customer.display_name},
            "customer": customer,
            "statement": statement(customers=customers, start=start, end=end),
            "form": form,
            "start": start,
            "end": end,
            "branches": branches,
            "opts": Customer._meta,
        }
        return TemplateResponse(request, "admin/billing/ledger/statement.html", context)


class StatementPeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False)
    end = forms.DateField(label=gettext_lazy("To"), required=False)
    branches = forms.BooleanField(label=gettext_lazy("Include branches open to this customer"), required=False)


class AmountForm(forms.Form):
    amount = forms.DecimalField(label=gettext_lazy("Amount"), max_digits=18, decimal_places=2)
    method = forms.ChoiceField(
        label=gettext_lazy("Paid back by"), choices=Payment.Method.choices, initial=Payment.Method.BANK_TRANSFER
    )
    reference = forms.CharField(label=gettext_lazy("Reference"), max_length=100, required=False)


class ApplyForm(forms.Form):
    invoice = forms.ModelChoiceField(label=gettext_lazy("Invoice"), queryset=Invoice.objects.none())
    amount = forms.DecimalField(label=gettext_lazy("Amount"), max_digits=18, decimal_places=2)

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


@admin.register(RetainerInvoice)
class RetainerInvoiceAdmin(MoneyActionsMixin, InvoiceAdmin):
    is_retainer = True
    list_display = (
        "number",
        "customer",
        "issued_on",
        "status_shown",
        "total_shown",
        "balance_shown",
        "retainer_unused",
    )
    list_filter = ("status", "issued_on")
    inlines = (InvoiceLineInline, AllocationInline, RetainerUsedInline, _refund_inline("retainer"))
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
            done=lambda obj, res: _("Refunded %(amount)s of %(r)s.") % {"amount": res.amount, "r": obj.number},
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


class RecordPaymentForm(forms.Form):
    amount = forms.DecimalField(label=gettext_lazy("Amount received"), max_digits=18, decimal_places=2)
    paid_on = forms.DateField(label=gettext_lazy("Payment date"), initial=timezone.localdate)
    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=Payment.Method.choices)
    reference = forms.CharField(
        label=gettext_lazy("Reference (cheque no., transfer id)"), max_length=100, required=False
    )
    notes = forms.CharField(label=gettext_lazy("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    oldest_first = forms.BooleanField(
        label=gettext_lazy("Apply what is not allocated below to the oldest due invoices"), required=False
    )

    def __init__(self, *args, invoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.invoices = list(invoices)
        for invoice in self.invoices:
            self.fields[f"alloc_{invoice.pk}"] = forms.DecimalField(
                label=f"{invoice.number} · {invoice.customer.display_name} · due {invoice.due_on:%Y-%m-%d} · "
                f"{format_money(invoice.balance_due, invoice.currency)}",
                max_digits=18,
                decimal_places=2,
                required=False,
            )

    def allocations(self) -> dict[int, Decimal]:
        return {
            inv.pk: self.cleaned_data[f"alloc_{inv.pk}"]
            for inv in self.invoices
            if self.cleaned_data.get(f"alloc_{inv.pk}") is not None
        }

    def allocation_fields(self):
        return [self[f"alloc_{inv.pk}"] for inv in self.invoices]


class PayerForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=gettext_lazy("Payer"),
        queryset=Customer.objects.all(),
        widget=AutocompleteSelect(Payment._meta.get_field("customer"), admin.site),
    )


@admin.register(Payment)
class PaymentAdmin(MoneyActionsMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "customer",
        "paid_on",
        "amount_shown",
        "unallocated",
        "refunded_amount",
        "method",
        "status",
        "reference",
    )
    list_filter = ("status", "method", "paid_on")
    search_fields = ("number", "reference", "customer__display_name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    date_hierarchy = "paid_on"
    inlines = (PaymentAllocationInline, _refund_inline("payment"))
    actions = ("pay_oldest_first",)
    money_views = (("refund", "refund_view"),)
    readonly_fields = (
        "number",
        "customer",
        "currency",
        "amount",
        "unallocated",
        "refunded_amount",
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

    def has_change_permission(self, request, obj=None):
        # View-only pages (no Save button): a payment is corrected by a new row, never edited.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_shown(self, payment):
        return format_money(payment.amount, payment.currency)

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
                        )
                        if form.cleaned_data["oldest_first"] and payment.unallocated > 0:
                            allocate_oldest_first(payment=payment)
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    payment.refresh_from_db()
                    self.message_user(
                        request,
                        _("Payment %(n)s recorded; %(left)s left as credit.")
                        % {"n": payment.number, "left": format_money(payment.unallocated, payment.currency)},
                    )
                    return redirect("admin:billing_payment_change", payment.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record a payment"),
            "payer": payer,
            "payer_form": payer_form,
            "form": form,
            "opts": Payment._meta,
            "media": self.media + payer_form.media,
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
        _service_call(
            self, request, lambda p: allocate_oldest_first(payment=p), queryset, _("%(count)d payment(s) applied.")
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
    inlines = (CreditNoteLineInline, CreditNoteApplicationInline, _refund_inline("credit_note"))
    money_views = (("apply", "apply_view"), ("refund", "refund_view"))
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
        _service_call(
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
        _service_call(
            self,
            request,
            lambda sub: bill_subscription(subscription=sub, today=today),
            queryset,
            _("%(count)d subscription(s) billed up to today."),
        )
