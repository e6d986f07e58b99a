"""Malformed input in the back office: a message and the page again, never a 500.

Django's admin turns most bad URL parameters into its "Database error" page, but a few reach
the date arithmetic or the database and answer 500: a year past 9999 in the date drill-down
(OverflowError), a non-numeric id in an autocomplete field re-rendered after an error, or in
the ticked rows of an action. (A NUL byte anywhere in a query string never gets this far:
config.middleware.RejectNulBytesMiddleware answers 400.) Every billing ModelAdmin mixes this in first.
"""

from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _


class SafeAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget looks up the raw submitted value when it re-renders a form:
    "abc" for an id raises ValueError (a 500). Values that can't be an id are dropped here; the
    form field still reports them as an invalid choice."""

    def optgroups(self, name, value, attrs=None):
        remote = self.field.remote_field
        key = remote.model._meta.get_field(remote.field_name)
        valid = []
        for raw in value:
            try:
                key.to_python(raw)
            except ValidationError:
                continue
            valid.append(raw)
        return super().optgroups(name, valid, attrs)


class SafeAutocompleteMixin:
    """Admins and inlines: autocomplete fields use SafeAutocompleteSelect."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SafeAdminMixin(SafeAutocompleteMixin):
    """Bad filters, searches, autocomplete values and ticked ids answer with a message."""

    def changelist_view(self, request, extra_context=None):
        if ERROR_FLAG in request.GET:
            # Django's answer to a filter it can't apply is a page about the "database
            # installation"; a bookkeeper with a stale bookmark needs the list and a reason.
            self.message_user(
                request,
                _("That filter or date isn't valid, so the full list is shown."),
                messages.WARNING,
            )
            return HttpResponseRedirect(request.path)
        return super().changelist_view(request, extra_context)

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except OverflowError as exc:  # a date drill-down year past 9999
            raise IncorrectLookupParameters(str(exc)) from exc

    def response_action(self, request, queryset):
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        try:
            for value in selected:
                self.model._meta.pk.to_python(value)
        except ValidationError:
            self.message_user(
                request,
                _("Some ticked rows are not in the list any more; select them again."),
                messages.ERROR,
            )
            return None  # the changelist redirects back to itself
        return super().response_action(request, queryset)
