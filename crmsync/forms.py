"""Admin forms: Zoho CRM credentials and the five set-up steps."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .mapping import ACCOUNTS, CONTACTS, CUSTOM_PREFIX, CUSTOMER_TARGETS, type_problem
from .models import CrmConnection
from .services.receivables import DEFAULT_RECEIVABLE_FIELDS, RECEIVABLE_LABELS
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


# Targets fed by several CRM fields joined in the CRM's field order (street, city, code, country).
JOINED_TARGETS = ("billing_address", "shipping_address")
CUSTOM_PICKER = "custom"
MODULE_PREFIX = {ACCOUNTS: "accounts", CONTACTS: "contacts"}
RECEIVABLES_PREFIX = "receivables__"
# Zoho field types that hold an amount (the data types of crmsync.mapping).
RECEIVABLE_FIELD_TYPES = ("currency", "double", "decimal")


def picker_name(module: str, target: str) -> str:
    """The form field of one mapping pick, e.g. "accounts__display_name", "contacts__custom"."""
    return f"{MODULE_PREFIX[module]}__{target}"


class ConfigureForm(forms.Form):
    """The five steps on one page: module, extent, duplicates, views, field mapping.

    Step 5 is a picker built from the CRM's field list (settings/fields): per billing field, the
    CRM field (or fields, for an address) that feeds it, plus CRM fields kept as custom fields.
    Each pick is checked against the CRM field's type. With `crm_fields=None` (the field list
    could not be read) there is no picker and the mapping in use (stored, else the defaults) stays.
    """

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
    push_transactions = forms.BooleanField(
        label=gettext_lazy("Transactions: push invoices and sales orders to Zoho CRM"),
        required=False,
        help_text=gettext_lazy(
            "Invoices and sales orders reach Zoho CRM's Invoices and Sales_Orders modules within seconds of each "
            "change (sent, paid, partly paid, void), with their line items and balance due, for customers linked "
            "to a CRM account. Billing adds the fields it needs to Zoho CRM (Billing_Document_Id, Balance_Due, "
            "and Billing_Item_Id on Products) when you save."
        ),
    )

    def __init__(
        self,
        *args,
        views: dict[str, list[dict]],
        crm_fields: dict[str, list[dict]] | None,
        stored_mapping: dict | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.views = views
        self.crm_fields = crm_fields
        # A CRM field already kept as custom:<key> keeps its key (customers' stored values use it).
        self.custom_keys = {
            module: {crm: target for crm, target in pairs if target.startswith(CUSTOM_PREFIX)}
            for module, pairs in (stored_mapping or {}).items()
        }
        all_views = [("", _("All records (no view)"))]
        self.fields["account_view"].choices = all_views + [(v["id"], v["name"]) for v in views.get(ACCOUNTS, [])]
        self.fields["contact_view"].choices = all_views + [(v["id"], v["name"]) for v in views.get(CONTACTS, [])]
        self.picker_groups: list[tuple[str, list[str]]] = []
        self.receivables_picker: list[str] = []
        if crm_fields is None:
            return
        for module in (ACCOUNTS, CONTACTS):
            options = [
                (f["api_name"], f"{f.get('field_label') or f['api_name']} ({f['api_name']}, {f.get('data_type', '?')})")
                for f in crm_fields.get(module, [])
            ]
            names = []
            for target, label in CUSTOMER_TARGETS.items():
                name = picker_name(module, target)
                if target in JOINED_TARGETS:
                    self.fields[name] = forms.MultipleChoiceField(
                        label=label,
                        required=False,
                        choices=options,
                        widget=forms.SelectMultiple(attrs={"size": 6}),
                        help_text=_("Several fields are joined line by line, in Zoho CRM's order."),
                    )
                else:
                    self.fields[name] = forms.ChoiceField(
                        label=label, required=False, choices=[("", _("— not synced —")), *options]
                    )
                names.append(name)
            name = picker_name(module, CUSTOM_PICKER)
            self.fields[name] = forms.MultipleChoiceField(
                label=_("Kept as custom fields"),
                required=False,
                choices=options,
                widget=forms.SelectMultiple(attrs={"size": 6}),
                help_text=_("Other CRM fields stored on the customer as custom fields."),
            )
            names.append(name)
            self.picker_groups.append((module, names))
        self.receivables_picker = self._add_receivables_picker(crm_fields.get(ACCOUNTS, []))

    def _add_receivables_picker(self, account_fields: list[dict]) -> list[str]:
        """Per receivables figure, the Account field it is written to: one billing creates, or an
        existing currency or decimal field (the only types that can hold an amount)."""
        options = [
            (f["api_name"], f"{f.get('field_label') or f['api_name']} ({f['api_name']}, {f.get('data_type')})")
            for f in account_fields
            if f.get("data_type") in RECEIVABLE_FIELD_TYPES and f["api_name"] not in DEFAULT_RECEIVABLE_FIELDS.values()
        ]
        names = []
        for figure, label in RECEIVABLE_LABELS.items():
            name = f"{RECEIVABLES_PREFIX}{figure}"
            default = DEFAULT_RECEIVABLE_FIELDS[figure]
            self.fields[name] = forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", _("%(field)s (billing creates it if missing)") % {"field": default}), *options],
            )
            names.append(name)
        return names

    @staticmethod
    def initial_for(connection: CrmConnection, default_mapping: dict) -> dict:
        mapping = connection.field_mapping or default_mapping
        initial = {
            "module": connection.module,
            "include_orphan_contacts": connection.include_orphan_contacts,
            "direction": connection.direction,
            "duplicate_policy": connection.duplicate_policy,
            "account_view": connection.account_view_id,
            "contact_view": connection.contact_view_id,
            "push_transactions": connection.push_transactions,
            **{
                f"{RECEIVABLES_PREFIX}{figure}": api_name
                for figure, api_name in (connection.receivable_field_mapping or {}).items()
            },
        }
        for module in (ACCOUNTS, CONTACTS):
            for crm, target in mapping.get(module, []):
                if target.startswith(CUSTOM_PREFIX):
                    initial.setdefault(picker_name(module, CUSTOM_PICKER), []).append(crm)
                elif target in JOINED_TARGETS:
                    initial.setdefault(picker_name(module, target), []).append(crm)
                elif target in CUSTOMER_TARGETS:
                    initial.setdefault(picker_name(module, target), crm)
        return initial

    def _picked_mapping(self, data: dict, module: str) -> list[list[str]]:
        """The picks of one module as [crm, target] pairs, types checked (errors on the pick)."""
        known = {f["api_name"]: f for f in self.crm_fields.get(module, [])}
        order = {name: n for n, name in enumerate(known)}
        stored = self.custom_keys.get(module, {})
        pairs = []
        for target in [*CUSTOMER_TARGETS, CUSTOM_PICKER]:
            name = picker_name(module, target)
            picked = data.get(name) or []
            picked = sorted(picked, key=lambda crm: order.get(crm, 0)) if isinstance(picked, list) else [picked]
            for crm in picked:
                if target == CUSTOM_PICKER:
                    pair_target = stored.get(crm) or f"{CUSTOM_PREFIX}{crm.lower()}"
                else:
                    pair_target = target
                problem = type_problem(field=known.get(crm, {}), target=pair_target)
                if problem:
                    self.add_error(name, problem)
                pairs.append([crm, pair_target])
        return pairs

    def clean(self):
        data = super().clean()
        if self.crm_fields is None:
            data["field_mapping"] = None  # unreadable field list: keep the mapping in use
        else:
            mapping = {}
            for module in (ACCOUNTS, CONTACTS):
                pairs = self._picked_mapping(data, module)
                if pairs:
                    mapping[module] = pairs
            module = data.get("module")
            display = picker_name(ACCOUNTS, "display_name")
            if (
                module in (CrmConnection.Module.ACCOUNTS, CrmConnection.Module.ACCOUNTS_AND_CONTACTS)
                and not data.get(display)
                and not self.has_error(display)
            ):
                self.add_error(display, _("Map at least the account name to the display name."))
            data["field_mapping"] = mapping
        data["receivable_field_mapping"] = self._receivable_mapping(data)
        data["account_view_obj"] = self._view(ACCOUNTS, data.get("account_view"))
        data["contact_view_obj"] = self._view(CONTACTS, data.get("contact_view"))
        return data

    def _receivable_mapping(self, data: dict) -> dict[str, str] | None:
        """Figure → existing Account field picked by staff; None when the field list was unreadable."""
        if not self.receivables_picker:
            return None
        mapping, used = {}, {}
        for name in self.receivables_picker:
            api_name = data.get(name)
            if not api_name:
                continue
            if api_name in used:
                self.add_error(
                    name, _("%(field)s already holds %(figure)s.") % {"field": api_name, "figure": used[api_name]}
                )
            used[api_name] = self.fields[name].label
            mapping[name.removeprefix(RECEIVABLES_PREFIX)] = api_name
        return mapping

    def _view(self, module: str, view_id: str | None) -> dict | None:
        return next((v for v in self.views.get(module, []) if v["id"] == view_id), None) if view_id else None


class SearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Name of the Zoho CRM account or contact"), min_length=2, max_length=100)
