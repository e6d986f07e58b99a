"""A seam for other apps to add to billing's admin pages without billing knowing them.

An integration (the CRM sync) shows what it keeps about customers and documents on their pages:
its links as a read-only panel, list filters over them, a search by its ids, links in a change
page's object tools and a note above an add form. It registers them for a billing model from its
`AppConfig.ready()`:

    extend_admin(Customer, AdminExtension(panels=customer_links_panel, list_filters=(LinkFilter,)))

The ModelAdmins that mix in `ExtensibleAdminMixin` read the registry on each request, so the order
in which apps load does not matter, and billing imports nothing from the apps that extend it.
Panels are read-only HTML, not inlines: the change form posts nothing for them, so billing's forms
(and whatever posts them) stay the same whichever apps are installed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .search import rows_matching

Panels = Callable[[HttpRequest, Model], list[str]]
ObjectLinks = Callable[[HttpRequest, Model], list[tuple[str, str]]]
AddFormNotes = Callable[[HttpRequest], list[str]]
Search = Callable[[QuerySet, str], QuerySet]


@dataclass(frozen=True)
class AdminExtension:
    """What one app adds to one billing model's admin.

    - `panels`: (request, obj) → HTML snippets (already escaped) shown below the change form's fields;
    - `list_filters`: list filters appended to the changelist's;
    - `search`: (queryset, term) → the rows of `queryset` the term finds in the app's data; they
      are added to what billing's search finds;
    - `object_links`: (request, obj) → [(url, label)] shown in the change page's object tools;
    - `add_form_notes`: (request) → HTML snippets (already escaped) shown above the add form.
    """

    panels: Panels | None = None
    list_filters: tuple = ()
    search: Search | None = None
    object_links: ObjectLinks | None = None
    add_form_notes: AddFormNotes | None = None


_REGISTRY: dict[type[Model], list[AdminExtension]] = {}


def extend_admin(model: type[Model], extension: AdminExtension) -> None:
    """Add `extension` to the admin of `model` (exactly this model, not its proxies). Safe to repeat."""
    extensions = _REGISTRY.setdefault(model, [])
    if extension not in extensions:
        extensions.append(extension)


def extensions_for(model: type[Model]) -> list[AdminExtension]:
    return list(_REGISTRY.get(model, ()))


class ExtensibleAdminMixin:
    """Applies the registered extensions of the admin's model. Its change form template (this
    default, or one extending it) renders the panels, object links and notes."""

    change_form_template = "admin/billing/change_form.html"

    def _extensions(self) -> list[AdminExtension]:
        return extensions_for(self.model)

    def get_list_filter(self, request):
        extra = [f for ext in self._extensions() for f in ext.list_filters]
        return (*super().get_list_filter(request), *extra)

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            for ext in self._extensions():
                if ext.search is not None:
                    # The app's rows are read first (by id), then OR'ed in: its EXISTS inside the OR would
                    # have PostgreSQL read the whole table (billing/admin/search.py).
                    found = found | queryset.filter(rows_matching(ext.search(queryset, term)))
        return found, may_have_duplicates

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        extensions = self._extensions()
        if obj is None:
            context["extension_notes"] = [
                note for ext in extensions if ext.add_form_notes for note in ext.add_form_notes(request)
            ]
        else:
            context["extension_links"] = [
                link for ext in extensions if ext.object_links for link in ext.object_links(request, obj)
            ]
            context["extension_panels"] = [
                panel for ext in extensions if ext.panels for panel in ext.panels(request, obj)
            ]
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
