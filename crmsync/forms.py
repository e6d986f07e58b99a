"""Admin forms: Zoho CRM credentials and the five set-up steps."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .mapping import ACCOUNTS, CONTACTS, CUSTOM_PREFIX, CUSTOMER_TARGETS
from .models import CrmConnection
from .zoho import ZOHO_SCOPE_STRING

ZOHO_DATA_CENTRES = [
    ("https://accounts.zoho.com", "https://www.zohoapis.com", "US"),
    ("https://accounts.zoho.eu", "https://www.zohoapis.eu", "EU"),
    ("https://accounts.zoho.in", "https://www.zohoapis.in", "India"),
    ("https://accounts.zoho.com.au", "https://www.zohoapis.com.au", "Australia"),
    ("https://accounts.zoho.jp", "https://www.zohoapis.jp", "Japan"),
    ("https://accounts.zohocloud.ca", "https://www.zohoapis.ca", "Canada"),
    ("https://accounts.zoho.uk", "https://www.zohoapis.uk", "United Kingdom"),
    ("https://accounts.zoho.sa", "https://www.zohoapis.sa", "Saudi Arabia"),
]


class CredentialsForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Email address"),
        help_text=gettext_lazy("Has access to all modules in Zoho CRM; owns the records pushed from billing."),
    )
    accounts_domain = forms.URLField(
        label=gettext_lazy("Zoho accounts domain"),
        assume_scheme="https",
        help_text=gettext_lazy("Your data centre, e.g. https://accounts.zoho.com or https://accounts.zoho.eu."),
    )
    api_domain = forms.URLField(
        label=gettext_lazy("Zoho API domain"),
        assume_scheme="https",
        help_text=gettext_lazy("e.g. https://www.zohoapis.com or https://www.zohoapis.eu."),
    )
    client_id = forms.CharField(label=gettext_lazy("Client id"), max_length=200)
    client_secret = forms.CharField(
        label=gettext_lazy("Client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=gettext_lazy("From the Zoho API console. Leave empty to keep the stored one."),
    )
    refresh_token = forms.CharField(
        label=gettext_lazy("Refresh token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=format_lazy(
            "{} {} {}",
            gettext_lazy("Generate it in the Zoho API console with these scopes, pasted as one string:"),
            ZOHO_SCOPE_STRING,
            gettext_lazy("Leave empty to keep the stored one."),
        ),
    )


def _format_mapping(pairs) -> str:
    return "\n".join(f"{crm} = {target}" for crm, target in pairs)


def parse_mapping(text: str) -> list[list[str]]:
    """'Account_Name = display_name' lines → pairs. Raises ValidationError on a bad line."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        crm, sep, target = (part.strip() for part in line.partition("="))
        if not sep or not crm or not target:
            raise ValidationError(
                _("Line %(n)d: write it as CRM_Field = billing_field."), code="bad_line", params={"n": number}
            )
        pairs.append([crm, target])
    return pairs


class ConfigureForm(forms.Form):
    """The five steps on one page: module, extent, duplicates, views, field mapping."""

    module = forms.ChoiceField(
        label=gettext_lazy("Step 1: module to sync"),
        choices=CrmConnection.Module.choices,
        widget=forms.RadioSelect,
    )
    include_orphan_contacts = forms.BooleanField(
        label=gettext_lazy("Include contacts that are not associated to any accounts in Zoho CRM"),
        required=False,
        help_text=gettext_lazy("Only with “Accounts and their Contacts”; they become Individual customers."),
    )
    direction = forms.ChoiceField(
        label=gettext_lazy("Step 2: extent of sync"),
        choices=CrmConnection.Direction.choices,
        widget=forms.RadioSelect,
    )
    duplicate_policy = forms.ChoiceField(
        label=gettext_lazy("Step 3: duplicate records"),
        choices=CrmConnection.DuplicatePolicy.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("A duplicate is a CRM record whose name equals a customer's display name."),
    )
    account_view = forms.ChoiceField(label=gettext_lazy("Step 4: account view"), required=False)
    contact_view = forms.ChoiceField(label=gettext_lazy("Step 4: contact view"), required=False)
    accounts_mapping = forms.CharField(
        label=gettext_lazy("Step 5: Accounts field mapping"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 60}),
    )
    contacts_mapping = forms.CharField(
        label=gettext_lazy("Step 5: Contacts field mapping"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 60}),
    )

    def __init__(self, *args, views: dict[str, list[dict]], crm_fields: dict[str, list[dict]], **kwargs):
        super().__init__(*args, **kwargs)
        self.views = views
        self.crm_fields = crm_fields
        all_views = [("", _("All records (no view)"))]
        self.fields["account_view"].choices = all_views + [(v["id"], v["name"]) for v in views.get(ACCOUNTS, [])]
        self.fields["contact_view"].choices = all_views + [(v["id"], v["name"]) for v in views.get(CONTACTS, [])]
        targets = ", ".join([*CUSTOMER_TARGETS, f"{CUSTOM_PREFIX}<key>"])
        for name, module in (("accounts_mapping", ACCOUNTS), ("contacts_mapping", CONTACTS)):
            names = ", ".join(f["api_name"] for f in crm_fields.get(module, []))
            self.fields[name].help_text = _(
                "One “CRM_Field = billing_field” per line. CRM fields: %(crm)s. Billing fields: %(targets)s."
            ) % {"crm": names, "targets": targets}

    @staticmethod
    def initial_for(connection: CrmConnection, default_mapping: dict) -> dict:
        mapping = connection.field_mapping or default_mapping
        return {
            "module": connection.module,
            "include_orphan_contacts": connection.include_orphan_contacts,
            "direction": connection.direction,
            "duplicate_policy": connection.duplicate_policy,
            "account_view": connection.account_view_id,
            "contact_view": connection.contact_view_id,
            "accounts_mapping": _format_mapping(mapping.get(ACCOUNTS, [])),
            "contacts_mapping": _format_mapping(mapping.get(CONTACTS, [])),
        }

    def clean(self):
        data = super().clean()
        mapping = {}
        for name, module in (("accounts_mapping", ACCOUNTS), ("contacts_mapping", CONTACTS)):
            try:
                pairs = parse_mapping(data.get(name, ""))
            except ValidationError as exc:
                self.add_error(name, exc)
                continue
            if pairs:
                mapping[module] = pairs
        module = data.get("module")
        if (
            module in (CrmConnection.Module.ACCOUNTS, CrmConnection.Module.ACCOUNTS_AND_CONTACTS)
            and ACCOUNTS not in mapping
            and not self.has_error("accounts_mapping")
        ):
            self.add_error("accounts_mapping", _("Map at least the account name to the display name."))
        data["field_mapping"] = mapping
        data["account_view_obj"] = self._view(ACCOUNTS, data.get("account_view"))
        data["contact_view_obj"] = self._view(CONTACTS, data.get("contact_view"))
        return data

    def _view(self, module: str, view_id: str | None) -> dict | None:
        return next((v for v in self.views.get(module, []) if v["id"] == view_id), None) if view_id else None


class SearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Name of the Zoho CRM account or contact"), min_length=2, max_length=100)
