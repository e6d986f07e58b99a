"""Won deals: the draft invoices made from them, and the switch and stage names staff control."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.admin.view_only import ViewOnlyAdminMixin
from crmsync.models import CrmConnection, WonDealInvoice
from crmsync.services.deals import configure_won_deal_invoicing


class WonDealSettingsForm(forms.Form):
    invoice_won_deals = forms.BooleanField(
        label=gettext_lazy("Create a draft invoice when a deal of a linked account is won"), required=False
    )
    won_deal_stages = forms.CharField(
        label=gettext_lazy("Won stages"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Deal stage names that count as won in Zoho CRM, separated by commas."),
    )


@admin.register(WonDealInvoice)
class WonDealInvoiceAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("deal_name", "crm_deal_id", "invoice", "created_at")
    list_filter = (("invoice", admin.EmptyFieldListFilter),)
    search_fields = ("deal_name", "crm_deal_id", "invoice__number")
    list_select_related = ("invoice",)
    readonly_fields = ("deal_name", "crm_deal_id", "invoice", "created_at")

    def get_urls(self):
        return [
            path(
                "settings/",
                self.admin_site.admin_view(self.settings_view),
                name="crmsync_wondealinvoice_settings",
            ),
            *super().get_urls(),
        ]

    def settings_view(self, request):
        if not request.user.has_perm("crmsync.change_crmconnection"):
            return redirect("admin:crmsync_wondealinvoice_changelist")
        connection = CrmConnection.current()
        form = WonDealSettingsForm(
            request.POST or None,
            initial={"invoice_won_deals": connection.invoice_won_deals, "won_deal_stages": connection.won_deal_stages},
        )
        if request.method == "POST" and form.is_valid():
            try:
                configure_won_deal_invoicing(
                    enabled=form.cleaned_data["invoice_won_deals"], stages=form.cleaned_data["won_deal_stages"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(request, _("Won-deal invoicing saved."), messages.SUCCESS)
                return redirect("admin:crmsync_wondealinvoice_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Invoices from won deals: settings"),
            "form": form,
            "connection": connection,
        }
        return TemplateResponse(request, "admin/crmsync/form.html", context)
