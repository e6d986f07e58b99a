"""Sales orders: drafts are created and edited here (lines priced like invoices), then confirmed;
a confirmed order is read-only apart from converting it to a draft invoice."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import Invoice, SalesOrder, SalesOrderLine
from billing.money import format_money
from billing.services import (
    confirm_sales_order,
    convert_sales_order_to_invoice,
    create_sales_order,
    update_draft_sales_order,
)

from ..extensions import ExtensibleAdminMixin
from .common import MoneyActionsMixin, ReadOnlyInline, SafeAdminMixin, call_service_for_each
from .entry import SalesOrderForm, line_rows, plain_quantity, service_error_to_forms


class SalesOrderLineInline(ReadOnlyInline):
    model = SalesOrderLine
    fk_name = "sales_order"
    fields = readonly_fields = (
        "item",
        "description",
        "quantity",
        "quantity_invoiced",
        "rate_shown",
        "discount_percent",
        "tax_percent",
        "amount_shown",
    )


class SalesOrderInvoiceInline(ReadOnlyInline):
    model = Invoice
    fk_name = "sales_order"
    fields = readonly_fields = ("invoice", "issued_on", "status", "total")
    verbose_name_plural = gettext_lazy("invoices")

    @admin.display(description=gettext_lazy("invoice"))
    def invoice(self, invoice):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:billing_invoice_change", args=[invoice.pk]), invoice.number
        )


@admin.register(SalesOrder)
class SalesOrderAdmin(SafeAdminMixin, ExtensibleAdminMixin, MoneyActionsMixin, admin.ModelAdmin):
    change_list_template = "admin/billing/ledger/change_list.html"
    change_form_template = "admin/billing/ledger/change_form.html"
    list_display = ("number", "customer", "ordered_on", "status", "invoiced_status", "total_shown")
    list_filter = ("status", "invoiced_status", "ordered_on")
    search_fields = ("number", "reference", "customer__display_name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    inlines = (SalesOrderLineInline, SalesOrderInvoiceInline)
    actions = ("confirm_selected", "convert_to_invoice")
    money_views = (("edit", "edit_view"), ("confirm", "confirm_view"), ("convert", "convert_view"))
    readonly_fields = (
        "next_steps",
        "number",
        "customer",
        "currency",
        "status",
        "invoiced_status",
        "ordered_on",
        "expected_shipment_on",
        "reference",
        "notes",
        "subtotal_shown",
        "discount_shown",
        "tax_shown",
        "total_shown",
        "first_viewed_at",
    )
    fields = readonly_fields

    def has_change_permission(self, request, obj=None):
        # The change page is view-only; drafts are edited through edit_view (create_sales_order /
        # update_draft_sales_order), so the admin never saves an order itself.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # numbers are gap-free

    @admin.display(description=gettext_lazy("subtotal (before discount)"))
    def subtotal_shown(self, order):
        # Subtotal − discount + tax = total as printed: `subtotal` is stored net of the line discounts.
        return format_money(order.subtotal_before_discount, order.currency)

    @admin.display(description=gettext_lazy("discount"))
    def discount_shown(self, order):
        return format_money(order.discount_total, order.currency)

    @admin.display(description=gettext_lazy("tax"))
    def tax_shown(self, order):
        return format_money(order.tax_total, order.currency)

    @admin.display(description=gettext_lazy("total"), ordering="total")
    def total_shown(self, order):
        return format_money(order.total, order.currency)

    @admin.display(description=gettext_lazy("next steps"))
    def next_steps(self, order):
        links = []
        if order.status == SalesOrder.Status.DRAFT:
            links += [
                (reverse("admin:billing_salesorder_edit", args=[order.pk]), _("Edit draft")),
                (reverse("admin:billing_salesorder_confirm", args=[order.pk]), _("Confirm order")),
            ]
        elif order.status == SalesOrder.Status.CONFIRMED and order.invoiced_status != order.InvoicedStatus.INVOICED:
            links.append((reverse("admin:billing_salesorder_convert", args=[order.pk]), _("Convert to invoice")))
        if not links:
            return _("Nothing left to do: the order is fully invoiced.")
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def get_urls(self):
        return [
            path("create/", self.admin_site.admin_view(self.create_view), name="billing_salesorder_create"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:billing_salesorder_create")

    def create_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._draft_form(request, None)

    def edit_view(self, request, object_id):
        if not self.has_add_permission(request):
            raise PermissionDenied
        order = get_object_or_404(SalesOrder.objects.select_related("customer"), pk=object_id)
        if order.status != SalesOrder.Status.DRAFT:
            self.message_user(
                request,
                _("Sales order %(so)s is %(status)s; only a draft can be edited.")
                % {"so": order.number, "status": order.get_status_display().lower()},
                messages.ERROR,
            )
            return redirect("admin:billing_salesorder_change", order.pk)
        return self._draft_form(request, order)

    def _draft_form(self, request, order: SalesOrder | None):
        """Create or edit a draft; "Save and confirm" confirms it in the same transaction."""
        posted = request.POST if request.method == "POST" else None
        form = SalesOrderForm(posted, instance=order)
        initial = (
            [
                {
                    "item": line.item_id,
                    "description": line.description,
                    "quantity": plain_quantity(line.quantity),
                    "rate": line.rate,
                    "discount_percent": line.discount_percent,
                    "tax_percent": line.tax_percent,
                }
                for line in order.lines.all()
            ]
            if order is not None
            else []
        )
        rows = line_rows(request, initial=initial, with_discount=True, customer=order.customer if order else None)
        if posted is not None:
            used = [row for row in rows if not row.is_empty()]
            rows_valid = all([row.is_valid() for row in used])  # a list: every row shows its errors
            if form.is_valid() and rows_valid:
                data = form.cleaned_data
                header = dict(
                    customer=data["customer"],
                    ordered_on=data["ordered_on"],
                    expected_shipment_on=data.get("expected_shipment_on"),
                    reference=data.get("reference", ""),
                    notes=data.get("notes", ""),
                )
                lines = [row.line_input() for row in used]
                try:
                    with transaction.atomic():  # save and confirm: both or neither
                        if order is None:
                            saved = create_sales_order(lines=lines, status=SalesOrder.Status.DRAFT, **header)
                        else:
                            saved = update_draft_sales_order(sales_order=order, lines=lines, **header)
                        if "_confirm" in posted:
                            confirm_sales_order(sales_order=saved)
                except ValidationError as exc:
                    service_error_to_forms(exc, form, used)
                else:
                    saved.refresh_from_db()
                    done = (
                        _("Sales order %(so)s confirmed for %(total)s; convert it to an invoice when ready.")
                        if saved.status == SalesOrder.Status.CONFIRMED
                        else _("Draft sales order %(so)s saved (%(total)s).")
                    )
                    self.message_user(
                        request, done % {"so": saved.number, "total": format_money(saved.total, saved.currency)}
                    )
                    return redirect("admin:billing_salesorder_change", saved.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("New sales order") if order is None else _("Edit draft sales order %(so)s") % {"so": order},
            "object": order,
            "opts": SalesOrder._meta,
            "form": form,
            "rows": rows,
            "lines_help": _(
                "Choose an item to use the customer's price (leave the rate empty), or type a description and "
                "a rate. Empty discount: the customer's discount; empty tax: the item's tax rate. Empty rows are "
                "ignored; clear a row's item, description and rate to remove it."
            ),
            "buttons": [("_save", _("Save draft")), ("_confirm", _("Save and confirm"))],
            "cancel_url": reverse("admin:billing_salesorder_change", args=[order.pk])
            if order
            else reverse("admin:billing_salesorder_changelist"),
            "media": self.media + form.media + rows[0].media,
        }
        return TemplateResponse(request, "admin/billing/ledger/document_form.html", context)

    def confirm_view(self, request, object_id):
        return self._money_form(
            request,
            object_id,
            title=_("Confirm sales order %(obj)s (its lines can't be edited afterwards)"),
            form=forms.Form(request.POST or None),
            run=lambda obj, d: confirm_sales_order(sales_order=obj),
            done=lambda obj, res: _("Sales order %(so)s confirmed.") % {"so": obj.number},
        )

    def convert_view(self, request, object_id):
        return self._money_form(
            request,
            object_id,
            title=_("Convert sales order %(obj)s to a draft invoice (everything not yet invoiced)"),
            form=forms.Form(request.POST or None),
            run=lambda obj, d: convert_sales_order_to_invoice(sales_order=obj, created_by=request.user),
            done=lambda obj, res: (
                _("Draft invoice %(inv)s created from %(so)s for %(total)s; send it from the invoices list.")
                % {"inv": res.number, "so": obj.number, "total": format_money(res.total, res.currency)}
            ),
        )

    @admin.action(description=gettext_lazy("Confirm selected draft sales orders"))
    def confirm_selected(self, request, queryset):
        call_service_for_each(
            self,
            request,
            lambda so: confirm_sales_order(sales_order=so),
            queryset,
            _("%(count)d sales order(s) confirmed."),
        )

    @admin.action(description=gettext_lazy("Convert to a draft invoice (everything not yet invoiced)"))
    def convert_to_invoice(self, request, queryset):
        call_service_for_each(
            self,
            request,
            lambda so: convert_sales_order_to_invoice(sales_order=so, created_by=request.user),
            queryset,
            _("%(count)d draft invoice(s) created."),
        )
