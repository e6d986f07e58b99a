"""Contact persons: the inline on a customer and their own list with the portal access actions."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import ContactPerson
from billing.services import BULK_ACTION_LIMIT, disable_portal_access, invite_contact

from ..extensions import ExtensibleAdminMixin
from ..safety import SafeAdminMixin


def _portal_status(contact: ContactPerson) -> str:
    if contact.portal_enabled and contact.user_id:
        return _("Access enabled")
    if contact.user_id:
        return _("Access disabled")
    return _("Not invited")

class ContactPersonInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        primaries = [form for form in self.forms
                     if form.cleaned_data.get("is_primary") and not form.cleaned_data.get("DELETE")]
        if len(primaries) > 1:
            for form in primaries:
                form.add_error("is_primary", _("Only one contact person can be the primary contact."))

    def save(self, commit=True):
        # The database allows one primary per customer: moving the flag from A to B must
        # clear A first, whatever order the rows are saved in.
        kept = [form for form in self.forms if form.has_changed() and not form.cleaned_data.get("DELETE")]
        primary = next((form for form in kept if form.cleaned_data.get("is_primary")), None)
        if commit and primary is not None and self.instance.pk:
            others = ContactPerson.objects.filter(customer=self.instance, is_primary=True)
            if primary.instance.pk:
                others = others.exclude(pk=primary.instance.pk)
            others.update(is_primary=False)
        return super().save(commit=commit)


class ContactPersonInline(admin.TabularInline):
    model = ContactPerson
    formset = ContactPersonInlineFormSet
    extra = 0
    fields = ("salutation", "first_name", "last_name", "email", "phone", "designation", "is_primary",
              "portal_access", "invited_at")
    readonly_fields = ("portal_access", "invited_at")
    show_change_link = True

    @admin.display(description=gettext_lazy("portal access"))
    def portal_access(self, contact):
        return _portal_status(contact) if contact.pk else "—"

@admin.register(ContactPerson)
class ContactPersonAdmin(SafeAdminMixin, ExtensibleAdminMixin, admin.ModelAdmin):
    list_display = ("full_name", "customer", "email", "is_primary", "portal_access", "invited_at")
    list_filter = ("portal_enabled", "is_primary", "customer__group")
    search_fields = ("first_name", "last_name", "email", "customer__display_name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    fields = ("customer", "salutation", "first_name", "last_name", "email", "phone", "mobile", "designation",
              "is_primary", "portal_access", "invited_at")
    readonly_fields = ("portal_access", "invited_at")
    actions = ("invite", "reinvite", "disable_access")

    @admin.display(description=gettext_lazy("portal access"))
    def portal_access(self, contact):
        return _portal_status(contact) if contact.pk else "—"

    def _each(self, request, queryset, service, wanted, skip_reason):
        contacts = list(queryset.select_related("customer"))
        if len(contacts) > BULK_ACTION_LIMIT:
            self.message_user(request, _("Select at most %(limit)d contact persons at a time; %(count)d were "
                                         "selected.") % {"limit": BULK_ACTION_LIMIT, "count": len(contacts)},
                              messages.ERROR)
            return
        done, problems = 0, []
        for contact in contacts:
            if not wanted(contact):
                problems.append(skip_reason % {"name": contact.full_name})
                continue
            try:
                service(contact=contact)
            except ValidationError as exc:
                problems.append(f"{contact.full_name}: {' '.join(exc.messages)}")
            else:
                done += 1
        return done, problems

    def _report(self, request, result, done_message):
        if result is None:
            return
        done, problems = result
        self.message_user(request, done_message % {"count": done})
        if problems:
            self.message_user(request, " ".join(problems), messages.WARNING)

    @admin.action(description=gettext_lazy("Invite to the portal"))
    def invite(self, request, queryset):
        result = self._each(request, queryset, invite_contact, lambda c: not c.portal_enabled,
                            _("%(name)s already has portal access; use Re-invite to send the email again."))
        self._report(request, result, _("%(count)d invitation(s) sent."))

    @admin.action(description=gettext_lazy("Re-invite (send the set-password email again)"))
    def reinvite(self, request, queryset):
        result = self._each(request, queryset, invite_contact, lambda c: c.portal_enabled,
                            _("%(name)s has no portal access; use Invite first."))
        self._report(request, result, _("%(count)d invitation(s) sent again."))

    @admin.action(description=gettext_lazy("Disable portal access"))
    def disable_access(self, request, queryset):
        result = self._each(request, queryset, disable_portal_access, lambda c: c.portal_enabled,
                            _("%(name)s had no portal access."))
        self._report(request, result, _("Portal access disabled for %(count)d contact person(s)."))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class ContactPersonForm(form):
            def clean(self):
                cleaned = super().clean()
                customer = cleaned.get("customer")
                if cleaned.get("is_primary") and customer is not None:
                    taken = ContactPerson.objects.filter(customer=customer, is_primary=True)
                    taken = taken.exclude(pk=self.instance.pk).first()
                    if taken is not None:
                        message = _("%(customer)s already has a primary contact, %(name)s. "
                                    "Untick it there first.")
                        self.add_error("is_primary", message % {"customer": customer.display_name,
                                                                 "name": taken.full_name})
                return cleaned

        return ContactPersonForm
