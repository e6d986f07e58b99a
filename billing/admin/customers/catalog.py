"""Groups, items, price lists and the organisation settings (one row)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import CustomerGroup, Item, Organisation, PriceList, PriceListItem

from ..safety import SafeAdminMixin, SafeAutocompleteMixin


@admin.register(CustomerGroup)
class CustomerGroupAdmin(SafeAdminMixin, admin.ModelAdmin):
    list_display = ("name", "member_count", "price_list", "payment_terms_days", "discount_percent")
    list_filter = ("price_list",)
    search_fields = ("name", "description")
    list_select_related = ("price_list",)
    autocomplete_fields = ("price_list",)
    fields = ("name", "description", "price_list", "payment_terms_days", "discount_percent", "members_list")
    readonly_fields = ("members_list",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description=gettext_lazy("members"), ordering="member_total")
    def member_count(self, group):
        return group.member_total

    @admin.display(description=gettext_lazy("members"))
    def members_list(self, group):
        if group.pk is None:
            return "—"
        members = group.members.order_by("display_name").only("pk", "display_name")
        if not members:
            return _("No customers yet: use the customer list's “Add to group…” action.")
        return format_html("<ul>{}</ul>", format_html_join(
            "", '<li><a href="{}">{}</a></li>',
            ((reverse("admin:billing_customer_change", args=[m.pk]), m.display_name) for m in members)))


@admin.register(Item)
class ItemAdmin(SafeAdminMixin, admin.ModelAdmin):
    list_display = ("name", "sku", "unit", "rate", "tax_percent", "is_active")
    list_filter = ("is_active", "unit")
    search_fields = ("name", "sku", "description")
    list_select_related = False


class PriceListItemInline(SafeAutocompleteMixin, admin.TabularInline):
    model = PriceListItem
    extra = 1
    autocomplete_fields = ("item",)
    fields = ("item", "currency", "rate")


@admin.register(PriceList)
class PriceListAdmin(SafeAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "scheme")
    list_filter = ("kind",)
    search_fields = ("name", "description")
    list_select_related = False
    inlines = (PriceListItemInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rate_count=Count("item_rates"))

    @admin.display(description=gettext_lazy("pricing"))
    def scheme(self, price_list):
        if price_list.kind == PriceList.Kind.PERCENTAGE:
            return f"{price_list.percentage:+}%"
        return _("%(count)d item rate(s)") % {"count": price_list.rate_count}

    def get_fields(self, request, obj=None):
        if obj is not None and obj.kind == PriceList.Kind.PER_ITEM:
            return ("name", "kind", "description")
        return ("name", "kind", "percentage", "description")

    def get_inlines(self, request, obj):
        # Per-item rates only mean something on a per-item list; a new list may become either.
        if obj is not None and obj.kind == PriceList.Kind.PERCENTAGE:
            return ()
        return self.inlines


@admin.register(Organisation)
class OrganisationAdmin(SafeAdminMixin, admin.ModelAdmin):
    """One row: the list page opens it, nothing can add a second one or delete it."""

    list_display = ("name", "base_currency", "default_payment_terms_days")
    list_filter = ()
    search_fields = ()
    list_select_related = ("default_price_list",)
    autocomplete_fields = ("default_price_list",)
    actions = None
    fieldsets = (
        (None, {"fields": ("name", "logo", "base_currency")}),
        (gettext_lazy("Contact details"), {"fields": ("email", "phone", "website", "address", "tax_id")}),
        (gettext_lazy("Defaults for customers without an override or group"),
         {"fields": ("default_payment_terms_days", "default_discount_percent", "default_price_list")}),
        (gettext_lazy("Portal"), {"fields": ("portal_banner_message", "portal_allows_contact_edits",
                                             "portal_shows_sales_orders")}),
    )

    def has_add_permission(self, request):
        return False  # Organisation.current() creates the one row

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        organisation = Organisation.current()
        return HttpResponseRedirect(reverse("admin:billing_organisation_change", args=[organisation.pk]))
