"""What the CRM integration shows on billing's pages, through billing's admin extension point
(`billing.admin.extensions`): the links of a customer or contact person (a read-only panel), the potential
(deal) of an invoice or sales order in the page's object tools, list filters and a search by CRM id
or deal name, and a way to import a customer from the CRM on the new-invoice page.

`register()` runs from `CrmsyncConfig.ready()`; billing imports nothing from here.
"""

from django.contrib import admin
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.admin.extensions import AdminExtension, extend_admin
from billing.models import ContactPerson, Customer, Invoice, SalesOrder
from crmsync.models import CrmLink
from crmsync.selectors import deal_link, document_field


def _links_panel(field: str):
    """The object's links to CRM records, in force first, with when each was synced or unlinked and why."""

    def panel(request, obj) -> list[str]:
        links = list(
            CrmLink.objects.filter(**{field: obj}).order_by(F("unlinked_at").desc(nulls_first=True), "-pk")
        )
        return [render_to_string("admin/crmsync/links_panel.html", {"links": links}, request=request)]

    return panel


class CustomerCrmLinkFilter(admin.SimpleListFilter):
    title = gettext_lazy("Zoho CRM link")
    parameter_name = "crm_link"

    def lookups(self, request, model_admin):
        return (
            ("linked", _("Linked to a CRM record")),
            ("unlinked", _("Unlinked (gone from the CRM)")),
            ("never", _("Never linked")),
        )

    def queryset(self, request, queryset):
        modules = (CrmLink.Module.ACCOUNTS, CrmLink.Module.CONTACTS)
        links = CrmLink.objects.filter(customer_id=OuterRef("pk"), module__in=modules)
        active = Exists(links.filter(unlinked_at__isnull=True))
        if self.value() == "linked":
            return queryset.filter(active)
        if self.value() == "unlinked":
            return queryset.filter(~active, Exists(links.filter(unlinked_at__isnull=False)))
        if self.value() == "never":
            return queryset.filter(~Exists(links))
        return queryset


def _document_deal_filter(field: str) -> type[admin.SimpleListFilter]:
    class DealFilter(admin.SimpleListFilter):
        title = gettext_lazy("CRM potential")
        parameter_name = "crm_deal"

        def lookups(self, request, model_admin):
            return (("yes", _("Linked to a potential")), ("no", _("No potential")))

        def queryset(self, request, queryset):
            linked = Exists(CrmLink.objects.active().filter(module=CrmLink.Module.DEALS, **{field: OuterRef("pk")}))
            if self.value() == "yes":
                return queryset.filter(linked)
            if self.value() == "no":
                return queryset.filter(~linked)
            return queryset

    return DealFilter


def _search_by_crm_id(field: str):
    def search(queryset: QuerySet, term: str) -> QuerySet:
        return queryset.filter(Exists(CrmLink.objects.filter(crm_id=term, **{field: OuterRef("pk")})))

    return search


def _search_by_deal(field: str):
    def search(queryset: QuerySet, term: str) -> QuerySet:
        deals = CrmLink.objects.active().filter(module=CrmLink.Module.DEALS, **{field: OuterRef("pk")})
        return queryset.filter(Exists(deals.filter(Q(crm_name__icontains=term) | Q(crm_id=term))))

    return search


def _deal_link(kind: str):
    def links(request, document) -> list[tuple[str, str]]:
        if not request.user.has_perm("crmsync.change_crmconnection"):
            return []
        deal = deal_link(document)
        label = _("CRM potential: %(deal)s") % {"deal": deal.crm_name or deal.crm_id} if deal else _(
            "Link a CRM potential"
        )
        return [(reverse("admin:crmsync_deals", args=[kind, document.pk]), label)]

    return links


def _import_from_crm_note(request) -> list[str]:
    if not request.user.has_perm("crmsync.change_crmconnection"):
        return []
    return [
        format_html(
            '{} <a href="{}">{}</a>.',
            _("Customer not in the list yet?"),
            reverse("admin:crmsync_search"),
            _("Search Zoho CRM and import them"),
        )
    ]


def register() -> None:
    """Add the CRM's panels, filters and links to billing's admin pages. Safe to repeat."""
    extend_admin(
        Customer,
        AdminExtension(
            panels=_PANELS["customer"],
            list_filters=(CustomerCrmLinkFilter,),
            search=_SEARCHES["customer"],
        ),
    )
    extend_admin(
        ContactPerson,
        AdminExtension(panels=_PANELS["contact_person"], search=_SEARCHES["contact_person"]),
    )
    for model, kind in ((Invoice, "invoice"), (SalesOrder, "salesorder")):
        field = document_field(model)
        extend_admin(
            model,
            AdminExtension(
                list_filters=(_DEAL_FILTERS[field],),
                search=_SEARCHES[field],
                object_links=_OBJECT_LINKS[kind],
                add_form_notes=_import_from_crm_note if model is Invoice else None,
            ),
        )


# Built once, so that registering twice adds nothing (extensions compare by value).
_DEAL_FILTERS = {field: _document_deal_filter(field) for field in ("invoice", "sales_order")}
_PANELS = {field: _links_panel(field) for field in ("customer", "contact_person")}
_SEARCHES = {
    "customer": _search_by_crm_id("customer"),
    "contact_person": _search_by_crm_id("contact_person"),
    **{field: _search_by_deal(field) for field in ("invoice", "sales_order")},
}
_OBJECT_LINKS = {kind: _deal_link(kind) for kind in ("invoice", "salesorder")}
