"""The customer list, change page, bulk actions and the hierarchy page."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import ContactPerson, Customer, CustomerGroup
from billing.money import ZERO, format_money
from billing.selectors import effective_terms, hierarchy_page, hierarchy_root
from billing.selectors.customers import BranchPage
from billing.services import (
    add_customers_to_group,
    enable_portal_and_invite_primary_contacts,
    remove_customers_from_group,
)
from billing.services.customers import check_bulk_size, lock_hierarchy

from ..extensions import ExtensibleAdminMixin
from ..safety import SafeAdminMixin
from ..search import IndexedSearchMixin, RelatedSearch
from .contacts import ContactPersonInline

_SOURCE_LABELS = {
    "customer": gettext_lazy("this customer's override"),
    "group": gettext_lazy("the group"),
    "organisation": gettext_lazy("the organisation default"),
}

class HasParentFilter(admin.SimpleListFilter):
    title = gettext_lazy("has parent")
    parameter_name = "has_parent"

    def lookups(self, request, model_admin):
        return (("yes", _("Branches (has a parent)")), ("no", _("Top level (no parent)")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(parent__isnull=False)
        if self.value() == "no":
            return queryset.filter(parent__isnull=True)
        return queryset


class OriginFilter(admin.SimpleListFilter):
    title = gettext_lazy("origin")
    parameter_name = "origin"

    def lookups(self, request, model_admin):
        return ((Customer.Origin.CRM, _("CRM customers")), (Customer.Origin.BILLING, _("Created in billing")))

    def queryset(self, request, queryset):
        if self.value() in Customer.Origin.values:
            return queryset.filter(origin=self.value())
        return queryset

BRANCH_PAGE_PARAMETER = "branches-of-"  # + the parent's id: which page of its branches the hierarchy shows


def _branch_pages_asked(request) -> dict[int, str]:
    """{parent id: page asked} from the hierarchy page's query string; other parameters are ignored."""
    asked = {}
    for key, value in request.GET.items():
        parent_id = key.removeprefix(BRANCH_PAGE_PARAMETER)
        if key.startswith(BRANCH_PAGE_PARAMETER) and parent_id.isdigit():
            asked[int(parent_id)] = value
    return asked


def _branch_pager(request, branches: BranchPage) -> dict:
    """What the hierarchy page shows below a page of branches: which ones, of how many, links to the others
    (the other levels' pages kept)."""
    page, key = branches.page, f"{BRANCH_PAGE_PARAMETER}{branches.parent.pk}"

    def url(number):
        query = request.GET.copy()
        query[key] = number
        return f"?{query.urlencode()}#branches-{branches.parent.pk}"

    links = [
        {"label": number, "url": None if number in (page.number, page.paginator.ELLIPSIS) else url(number)}
        for number in page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    ]
    return {
        "parent": branches.parent,
        "first": page.start_index(),
        "last": page.end_index(),
        "count": page.paginator.count,
        "previous": url(page.previous_page_number()) if page.has_previous() else None,
        "next": url(page.next_page_number()) if page.has_next() else None,
        "links": links,
    }


class CustomerAdminForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("parent", "customer_type", "currency")  # CustomerAdmin passes the rest from fieldsets

    def clean(self):
        cleaned = super().clean()
        if {"parent", "customer_type", "currency"} & set(self.changed_data):
            # The admin's change view is one transaction: the lock is held until the row is
            # saved, so Customer.clean() (run next) sees every hierarchy change committed before.
            lock_hierarchy()
        return cleaned


class AddToGroupForm(forms.Form):
    group = forms.ModelChoiceField(queryset=CustomerGroup.objects.all(), label=gettext_lazy("Group"))


@admin.register(Customer)
class CustomerAdmin(SafeAdminMixin, ExtensibleAdminMixin, IndexedSearchMixin, admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ("display_name", "customer_type", "group", "parent", "currency_code", "portal_enabled",
                    "origin", "hierarchy_link")
    list_filter = ("customer_type", "group", HasParentFilter, "portal_enabled", OriginFilter)
    search_fields = ("display_name", "company_name", "email",
                     "contacts__first_name", "contacts__last_name", "contacts__email")
    search_own = ("display_name", "company_name", "email")
    search_related = (RelatedSearch("pk", ContactPerson, ("first_name", "last_name", "email"), values="customer_id"),)
    list_select_related = ("group", "parent")
    autocomplete_fields = ("parent", "group", "price_list")
    inlines = (ContactPersonInline,)
    actions = ("add_to_group", "remove_from_group", "enable_portal_and_invite")
    change_form_template = "admin/billing/customer/change_form.html"
    readonly_fields = ("branches", "effective_payment_terms", "effective_discount", "effective_price_list",
                       "origin", "custom_fields", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("display_name", "company_name", "customer_type", "currency")}),
        (gettext_lazy("Contact"), {"fields": ("email", "phone", "website", "tax_id")}),
        (gettext_lazy("Addresses"), {"fields": ("billing_address", "shipping_address")}),
        (gettext_lazy("Hierarchy"), {
            "fields": ("parent", "allow_parent_access", "branches"),
            "description": gettext_lazy("Only Business customers can be parents or branches, "
                                        "and a branch bills in its parent's currency."),
        }),
        (gettext_lazy("Terms and pricing"), {
            "fields": ("group", "payment_terms_days", "discount_percent", "price_list",
                       "effective_payment_terms", "effective_discount", "effective_price_list"),
            "description": gettext_lazy("Leave an override empty to use the group's value, "
                                        "else the organisation default."),
        }),
        (gettext_lazy("Portal and payments"), {"fields": ("portal_enabled", "allow_ach")}),
        (gettext_lazy("Origin"), {"fields": ("origin", "custom_fields"), "classes": ("collapse",)}),
        (gettext_lazy("Notes"), {"fields": ("notes", "created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(branch_count=Count("children"))

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "customer" and request.GET.get("field_name") == "parent":
            queryset = queryset.businesses()  # the parent autocomplete offers only possible parents
        return queryset, may_have_duplicates

    # --- read-only figures on the change page -------------------------------------------

    @admin.display(description=gettext_lazy("currency"), ordering="currency")
    def currency_code(self, customer):
        return customer.currency  # the code only: the list stays narrow

    @admin.display(description=gettext_lazy("hierarchy"))
    def hierarchy_link(self, customer):
        if customer.parent_id is None and not getattr(customer, "branch_count", 0):
            return "—"
        url = reverse("admin:billing_customer_hierarchy", args=[customer.pk])
        return format_html('<a href="{}">{}</a>', url, _("View hierarchy"))

    @admin.display(description=gettext_lazy("branches"))
    def branches(self, customer):
        if customer.pk is None:
            return "—"
        url = reverse("admin:billing_customer_hierarchy", args=[customer.pk])
        count = customer.children.count()
        return format_html('{} — <a href="{}">{}</a>', count, url, _("View hierarchy"))

    def _terms(self, customer):
        if customer.pk is None:
            return None
        if not hasattr(customer, "_admin_terms"):
            customer._admin_terms = effective_terms(customer=customer)
        return customer._admin_terms

    @admin.display(description=gettext_lazy("effective payment terms"))
    def effective_payment_terms(self, customer):
        terms = self._terms(customer)
        if terms is None:
            return "—"
        return _("Net %(days)d days, from %(source)s") % {
            "days": terms.payment_terms_days, "source": _SOURCE_LABELS[terms.payment_terms_source]}

    @admin.display(description=gettext_lazy("effective discount"))
    def effective_discount(self, customer):
        terms = self._terms(customer)
        if terms is None:
            return "—"
        return _("%(percent)s%%, from %(source)s") % {
            "percent": terms.discount_percent, "source": _SOURCE_LABELS[terms.discount_source]}

    @admin.display(description=gettext_lazy("effective price list"))
    def effective_price_list(self, customer):
        terms = self._terms(customer)
        if terms is None:
            return "—"
        name = terms.price_list.name if terms.price_list else _("Item rates (no price list)")
        source = _SOURCE_LABELS[terms.price_list_source]
        return _("%(name)s, from %(source)s") % {"name": name, "source": source}

    # --- bulk actions (50 at a time, as in Zoho) ------------------------------------------

    def _refuse(self, request, exc: ValidationError):
        self.message_user(request, " ".join(exc.messages), messages.ERROR)

    @admin.action(description=gettext_lazy("Add selected customers to a group…"))
    def add_to_group(self, request, queryset):
        customer_ids = list(queryset.values_list("pk", flat=True))
        try:
            check_bulk_size(customer_ids)
        except ValidationError as exc:
            return self._refuse(request, exc)
        form = AddToGroupForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            group = form.cleaned_data["group"]
            try:
                changed = add_customers_to_group(customer_ids=customer_ids, group=group)
            except ValidationError as exc:
                return self._refuse(request, exc)
            self.message_user(request, _("%(count)d customer(s) added to %(group)s.")
                              % {"count": changed, "group": group.name})
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Add customers to a group"),
            "opts": self.opts,
            "form": form,
            "customers": queryset.order_by("display_name"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/billing/customer/add_to_group.html", context)

    @admin.action(description=gettext_lazy("Remove selected customers from their group"))
    def remove_from_group(self, request, queryset):
        try:
            changed = remove_customers_from_group(customer_ids=list(queryset.values_list("pk", flat=True)))
        except ValidationError as exc:
            return self._refuse(request, exc)
        self.message_user(request, _("%(count)d customer(s) removed from their group.") % {"count": changed})

    @admin.action(description=gettext_lazy("Enable portal and invite primary contacts"))
    def enable_portal_and_invite(self, request, queryset):
        try:
            sent, skipped = enable_portal_and_invite_primary_contacts(
                customer_ids=list(queryset.values_list("pk", flat=True)))
        except ValidationError as exc:
            return self._refuse(request, exc)
        self.message_user(request, _("%(count)d invitation(s) sent.") % {"count": len(sent)})
        if skipped:
            self.message_user(request, _("Skipped: %(reasons)s") % {"reasons": " ".join(skipped)},
                              messages.WARNING)

    # --- the hierarchy page ------------------------------------------------------------

    def get_urls(self):
        hierarchy = path("<path:object_id>/hierarchy/", self.admin_site.admin_view(self.hierarchy_view),
                         name="billing_customer_hierarchy")
        return [hierarchy, *super().get_urls()]

    def hierarchy_view(self, request, object_id):
        customer = self.get_object(request, unquote(object_id))  # None for a malformed id too
        if customer is None:
            raise Http404(_("No customer with that id."))
        if not self.has_view_permission(request, customer):
            raise PermissionDenied
        root = hierarchy_root(customer=customer)
        tree = hierarchy_page(root_id=root.pk, pages=_branch_pages_asked(request), current_id=customer.pk)
        outstanding = tree.outstanding
        total = sum(outstanding.values(), ZERO)
        rows = []
        for depth, item in tree.rows:
            if isinstance(item, BranchPage):
                rows.append({"depth": depth, "indent": depth * 24, "pager": _branch_pager(request, item)})
                continue
            rows.append({"depth": depth, "indent": depth * 24, "node": item,
                         "outstanding": format_money(outstanding.get(item.pk, ZERO), item.currency),
                         "url": reverse("admin:billing_customer_change", args=[item.pk])})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Hierarchy of %(name)s") % {"name": root.display_name},
            "opts": self.opts,
            "customer": customer,
            "root": root,
            "rows": rows,
            "total": format_money(total, root.currency),
        }
        return TemplateResponse(request, "admin/billing/customer/hierarchy.html", context)
