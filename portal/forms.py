"""Portal forms check the shape of input; services check the business rules."""

import datetime as dt
import html

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe

from billing.models import Invoice, SalesOrder


class FastSelect(forms.Select):
    """A <select> built in Python: the account filter of a parent with 1,000 branches has 1,000 options,
    which Django's per-option widget templates take ~50 ms to render; this takes ~1 ms. The standard
    library's html.escape gives the same text as django.utils.html.escape without its lazy-string wrapper
    and SafeString per call (~1 ms of 2,000 calls)."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        options = []
        for key, label in self.choices:
            key = str(key)
            flag = " selected" if key in selected else ""
            options.append(f'<option value="{html.escape(key)}"{flag}>{html.escape(str(label))}</option>')
        return mark_safe(f"<select{flatatt(final)}>{''.join(options)}</select>")


class _BranchChoices(BaseChoiceIterator):
    """Account choices already in (value, label) form. Django normalises a plain list twice (field and widget),
    one check per option: ~1 ms of each list page for a parent with 1,000 branches."""

    def __init__(self, branches):
        self.branches = branches

    @cached_property
    def choices(self):
        # built when first read: a form that shows a typed account field never lists them
        return [("", "All accounts")] + [(str(c.pk), c.display_name) for c in self.branches]

    def __iter__(self):
        return iter(self.choices)

    def __len__(self):
        return len(self.branches) + 1


def accounts_matching(customers, text: str) -> list:
    """The customers (with `display_name`) a typed account name means: those named exactly so (case aside),
    else those whose name contains it; in the order given."""
    wanted = text.strip().casefold()
    if not wanted:
        return []
    exact = [c for c in customers if c.display_name.casefold() == wanted]
    return exact or [c for c in customers if wanted in c.display_name.casefold()]


class AccountSearch(forms.TextInput):
    """A text field for an account's name, with a list the browser offers as the contact types: filled by
    static/js/portal.js from `suggestions_url` (the page works without it: the name typed is looked up)."""

    input_type = "search"

    def __init__(self, *, suggestions_url: str = "", attrs=None):
        super().__init__(attrs)
        self.suggestions_url = suggestions_url

    def render(self, name, value, attrs=None, renderer=None):
        attrs = {**(attrs or {}), "autocomplete": "off", "spellcheck": "false"}
        listed = f"{attrs.get('id', name)}-suggestions"
        if self.suggestions_url:
            attrs.update({"list": listed, "data-account-search": self.suggestions_url})
        field = super().render(name, value, attrs, renderer)
        return mark_safe(f'{field}<datalist id="{html.escape(listed)}"></datalist>' if self.suggestions_url else field)


class AccountFilterForm(forms.Form):
    """A form with an account filter over the visible accounts (`branches`). The account is picked from a list
    (`branch`, an id) for up to `ACCOUNT_LIST_MAX` accounts; past that (a list of a thousand costs the page
    ~45 KB and its rendering), typed (`account`, a name, with suggestions from `suggestions_url`), and an id
    still works in a link (`?branch=`). One account: no account filter. `cleaned_data["branch"]` is the
    account chosen either way (None: all); a typed name that means no account or several is an error on the
    field (`account_unresolved`), with the accounts it could mean in `account_choices`."""

    ACCOUNT_LIST_MAX = 50
    branch = forms.TypedChoiceField(coerce=int, required=False, label="Account", widget=FastSelect)
    account = forms.CharField(required=False, label="Account", max_length=200,
                              widget=AccountSearch(attrs={"placeholder": "All accounts"}))

    def __init__(self, data=None, *, branches=(), suggestions_url: str = "", **kwargs):
        super().__init__(data, **kwargs)
        self.branches = branches
        self.account_choices = []  # the accounts a typed name could mean, when it means more than one
        self.fields["branch"].choices = _BranchChoices(branches)
        if len(branches) < 2:
            del self.fields["branch"], self.fields["account"]
        elif len(branches) <= self.ACCOUNT_LIST_MAX:
            del self.fields["account"]
        else:
            self.fields["branch"].widget = forms.HiddenInput()
            self.fields["account"].widget.suggestions_url = suggestions_url
            if self.is_bound and "account" not in self.data and self.data.get("branch"):
                # a link to one account (`?branch=`): its name in the field, for the next change of filters
                named = {str(c.pk): c.display_name for c in branches}.get(self.data["branch"])
                if named:
                    self.data = self.data.copy()
                    self.data["account"] = named

    @property
    def account_unresolved(self) -> bool:
        """A typed account name that means no visible account, or several: show nothing until one is chosen."""
        return self.is_bound and self.has_error("account")

    def clean(self):
        data = super().clean()
        if "account" in self.fields and "account" in self.data and not self.has_error("branch"):
            data["branch"] = self._account(data.get("account", ""), data.get("branch"))
        return data

    def _account(self, text: str, branch: int | None) -> int | None:
        """The account the typed name means (None: all accounts); the id given with it when its name is the
        one typed (two accounts may share a name)."""
        text = text.strip()
        if not text:
            return None
        named = {c.pk: c for c in self.branches}.get(branch)
        if named is not None and named.display_name.casefold() == text.casefold():
            return branch
        matches = accounts_matching(self.branches, text)
        if len(matches) == 1:
            return matches[0].pk
        if not matches:
            self.add_error("account", f"No account matches “{text}”.")
        else:
            self.account_choices = matches[:10]
            more = f" (the first 10 of {len(matches)})" if len(matches) > 10 else ""
            self.add_error("account", f"{len(matches)} accounts match “{text}”: choose one below{more}, "
                                      "or type more of the name.")
        return None


class _Filter(AccountFilterForm):
    """List filters: invalid values are reported and ignored, never a 500."""

    def value(self, name, default=None):
        if not self.is_bound or not self.is_valid():
            cleaned = getattr(self, "cleaned_data", {})
            return cleaned.get(name) or default
        return self.cleaned_data.get(name) or default

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


DATE = forms.DateInput(attrs={"type": "date"})


class InvoiceFilterForm(_Filter):
    STATUS_CHOICES = [
        ("", "Any status"),
        ("unpaid", "Unpaid"),
        ("overdue", "Overdue"),
        (Invoice.Status.SENT, "Sent"),
        (Invoice.Status.PARTIALLY_PAID, "Partially paid"),
        (Invoice.Status.PAID, "Paid"),
        (Invoice.Status.VOID, "Void"),
    ]
    SORT_CHOICES = [
        ("-issued_on", "Newest first"),
        ("issued_on", "Oldest first"),
        ("due_on", "Due date (soonest)"),
        ("-due_on", "Due date (latest)"),
        ("-total", "Amount (highest)"),
        ("total", "Amount (lowest)"),
        ("number", "Number (A–Z)"),
        ("-number", "Number (Z–A)"),
    ]
    field_order = ["status", "branch", "account", "date_from", "date_to", "sort"]
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    date_from = forms.DateField(required=False, label="From", widget=DATE)
    date_to = forms.DateField(required=False, label="To", widget=DATE)
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, label="Sort by")


class SalesOrderFilterForm(_Filter):
    STATUS_CHOICES = [
        ("", "Any"),
        (SalesOrder.InvoicedStatus.NOT_INVOICED, "Not invoiced"),
        (SalesOrder.InvoicedStatus.PARTIALLY_INVOICED, "Partially invoiced"),
        (SalesOrder.InvoicedStatus.INVOICED, "Invoiced"),
    ]
    SORT_CHOICES = [
        ("-ordered_on", "Newest first"),
        ("ordered_on", "Oldest first"),
        ("-total", "Amount (highest)"),
        ("total", "Amount (lowest)"),
        ("number", "Number (A–Z)"),
    ]
    field_order = ["status", "branch", "account", "date_from", "date_to", "sort"]
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, label="Invoiced")
    date_from = forms.DateField(required=False, label="From", widget=DATE)
    date_to = forms.DateField(required=False, label="To", widget=DATE)
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, label="Sort by")


class PaymentFilterForm(_Filter):
    KIND_CHOICES = [("", "All payments"), ("invoice", "Invoice payments"), ("retainer", "Retainer payments")]
    SORT_CHOICES = [
        ("-paid_on", "Newest first"),
        ("paid_on", "Oldest first"),
        ("-amount", "Amount (highest)"),
        ("amount", "Amount (lowest)"),
    ]
    field_order = ["kind", "branch", "account", "sort"]
    kind = forms.ChoiceField(choices=KIND_CHOICES, required=False, label="Show")
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, label="Sort by")


def _quarter_start(day: dt.date) -> dt.date:
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


def period_bounds(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    month_start = today.replace(day=1)
    if period == "last_month":
        end = month_start - dt.timedelta(days=1)
        return end.replace(day=1), end
    if period == "this_quarter":
        return _quarter_start(today), today
    if period == "last_quarter":
        end = _quarter_start(today) - dt.timedelta(days=1)
        return _quarter_start(end), end
    if period == "this_year":
        return today.replace(month=1, day=1), today
    if period == "last_year":
        return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    return month_start, today


class StatementForm(AccountFilterForm):
    """The statement's period and account (AccountFilterForm)."""

    PERIODS = [
        ("this_month", "This month"),
        ("last_month", "Last month"),
        ("this_quarter", "This quarter"),
        ("last_quarter", "Last quarter"),
        ("this_year", "This year"),
        ("last_year", "Last year"),
        ("custom", "Custom range"),
    ]
    field_order = ["period", "start", "end", "branch", "account"]
    period = forms.ChoiceField(choices=PERIODS, required=False, initial="this_month")
    start = forms.DateField(required=False, label="From", widget=DATE)
    end = forms.DateField(required=False, label="To", widget=DATE)

    MAX_DAYS = 3 * 366

    def clean(self):
        data = super().clean()
        period = data.get("period") or "this_month"
        if period == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("Choose both a start and an end date for a custom range.")
            if start > end:
                self.add_error("end", "The end date is before the start date.")
            elif (end - start).days > self.MAX_DAYS:
                self.add_error("end", "A statement covers at most three years; choose a shorter range.")
        else:
            data["start"], data["end"] = period_bounds(period, timezone.localdate())
        data["period"] = period
        return data


class StatementPdfForm(StatementForm):
    """The statement's period and account, and whether to email the PDF (it is then built in the background)."""

    email_me = forms.BooleanField(required=False, label="Email it to me")


class StaffStatementPdfForm(forms.Form):
    """What the admin's statement page sends to have its statement as a PDF."""

    customer = forms.IntegerField()
    start = forms.DateField()
    end = forms.DateField()
    branches = forms.BooleanField(required=False)
    email_me = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The end date is before the start date.")
        return data


class CommentForm(forms.Form):
    body = forms.CharField(label="Add a comment", max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ForwardForm(forms.Form):
    email = forms.EmailField(label="Recipient's email")
    name = forms.CharField(label="Recipient's name", max_length=200, required=False)


class MyDetailsForm(forms.Form):
    phone = forms.CharField(max_length=40, required=False)
    mobile = forms.CharField(max_length=40, required=False)
    billing_address = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    shipping_address = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


ACCEPT = ".pdf,.png,.jpg,.jpeg,.gif,.webp,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={"accept": ACCEPT}
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Files", required=True, help_text="Up to 10 files, 5 MB each: PDF, images or office documents."
    )
