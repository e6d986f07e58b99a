"""The report filters: what a person typed, checked with messages they can act on."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Customer, CustomerGroup, Invoice, Organisation

from .selectors.aging import DEFAULT_BUCKET_EDGES, MAX_BUCKET_DAYS, MAX_BUCKET_EDGES
from .selectors.hierarchy import BY_GROUP, NO_GROUP

AGING_SORTS = {
    "total": _("Total owed, largest first"),
    "overdue": _("Overdue, largest first"),
    "oldest": _("Oldest bucket, largest first"),
    "name": _("Name"),
}

BALANCES_SORTS = {
    "closing": _("Closing balance, largest first"),
    "opening": _("Opening balance, largest first"),
    "invoiced": _("Invoiced, largest first"),
    "paid": _("Received, largest first"),
    "name": _("Name"),
}

PAYMENTS_SORTS = {
    "date": _("Date, newest first"),
    "amount": _("Amount, largest first"),
    "customer": _("Payer"),
}


def invoice_currencies() -> list[str]:
    """The currencies customers are invoiced in, the organisation's base currency first (customers, not the
    invoices: a thousand rows to read, not two hundred thousand; an invoice is in its customer's currency)."""
    used = set(Customer.objects.order_by().values_list("currency", flat=True).distinct())
    base = Organisation.current().base_currency
    return sorted(used, key=lambda c: (c != base, c)) or [base]


class ReportForm(forms.Form):
    """What every report filters on: the currency, a customer group and the order of the rows (`SORTS` of
    the report); `defaults` are written into the form when left empty (`filled`)."""

    SORTS: dict = {}

    currency = forms.ChoiceField(label=_("Currency"), required=False)
    group = forms.CharField(label=_("Group"), required=False, widget=forms.Select)
    sort = forms.ChoiceField(label=_("Sort by"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currencies = invoice_currencies()
        self.fields["currency"].choices = [(c, c) for c in self.currencies]
        self.groups = {str(pk): name for pk, name in CustomerGroup.objects.order_by("name").values_list("pk", "name")}
        self.fields["group"].widget.choices = [
            *self.wider_choices(), *self.groups.items(), (NO_GROUP, _("Customers in no group")),
        ]
        if "sort" in self.fields:  # a report whose rows have one order has no sort field
            self.fields["sort"].choices = list(self.SORTS.items())

    def wider_choices(self) -> list[tuple[str, str]]:
        """The group filter's choices above the groups themselves."""
        return [("", _("Every customer"))]

    @classmethod
    def defaults(cls) -> dict:
        return {}

    @classmethod
    def filled(cls, query):
        """The filters as typed, with the defaults written in where left empty: the form shows what the report
        used, and a link copied from the page keeps meaning the same days."""
        data = query.copy()
        for name, value in cls.defaults().items():
            if not data.get(name):
                data[name] = value
        return data

    def clean_currency(self):
        return self.cleaned_data.get("currency") or self.currencies[0]

    def clean_group(self):
        group = self.cleaned_data.get("group") or ""
        if group and group not in [value for value, _label in self.fields["group"].widget.choices]:
            raise forms.ValidationError(
                _("There is no such group (it may have been deleted): choose one from the list."))
        return group or None

    def clean_sort(self):
        return self.cleaned_data.get("sort") or next(iter(self.SORTS), "")


class LevelForm(ReportForm):
    """A report by customer: shown by hierarchy (the top-level customers, or the branches of one parent), one
    row per group, or the members of one group."""

    parent = forms.IntegerField(label=_("Branches of"), required=False, min_value=1, widget=forms.HiddenInput)

    def wider_choices(self) -> list[tuple[str, str]]:
        return [("", _("Every customer, by hierarchy")), (BY_GROUP, _("Every group, one row each"))]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent is not None and not Customer.objects.filter(pk=parent).exists():
            raise forms.ValidationError(_("There is no such customer (it may have been deleted)."))
        return parent

    def clean(self):
        data = super().clean()
        if data.get("group") and data.get("parent"):
            data["parent"] = None  # a group is a flat list: "branches of" does not apply
        return data


class PeriodForm(ReportForm):
    """A report over a period: its first and last days (this month so far by default), never in the future."""

    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            help_text=_("The period's first day. Empty: the first of this month."))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                          help_text=_("The period's last day, included. Empty: today."))

    @classmethod
    def defaults(cls) -> dict:
        today = timezone.localdate()
        return {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}

    def clean_start(self):
        return self.cleaned_data.get("start") or timezone.localdate().replace(day=1)

    def clean_end(self):
        end = self.cleaned_data.get("end") or timezone.localdate()
        today = timezone.localdate()
        if end > today:
            raise forms.ValidationError(
                _("The period cannot end in the future: choose today (%(today)s) or an earlier day.")
                % {"today": today})
        return end

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The period ends before it starts: choose a last day on or after %(start)s.")
                           % {"start": start})
        return data


class AgingForm(LevelForm):
    SORTS = AGING_SORTS
    field_order = ["as_of", "buckets", "currency", "group", "parent", "sort"]

    as_of = forms.DateField(label=_("As of"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}),
                            help_text=_("The ledger as it stood at the end of this day. Empty: today."))
    buckets = forms.CharField(label=_("Buckets (days overdue)"), required=False, max_length=60,
                              help_text=_("Where each bucket ends, in days: 15, 30, 45 gives 1–15, 16–30, 31–45 "
                                          "and over 45."))

    @classmethod
    def defaults(cls) -> dict:
        return {"as_of": timezone.localdate().isoformat(), "buckets": ", ".join(map(str, DEFAULT_BUCKET_EDGES))}

    def clean_as_of(self):
        as_of = self.cleaned_data.get("as_of") or timezone.localdate()
        today = timezone.localdate()
        if as_of > today:
            raise forms.ValidationError(
                _("The report cannot look ahead: choose today (%(today)s) or an earlier day.") % {"today": today})
        first = Invoice.objects.exclude(status=Invoice.Status.DRAFT).order_by("issued_on").values_list(
            "issued_on", flat=True).first()
        if first is not None and as_of < first:
            raise forms.ValidationError(
                _("Nothing was invoiced before %(first)s, the date of the first invoice: choose that day or later.")
                % {"first": first})
        return as_of

    def clean_buckets(self):
        text = (self.cleaned_data.get("buckets") or "").strip()
        if not text:
            return DEFAULT_BUCKET_EDGES
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise forms.ValidationError(
                _("Write the buckets as whole numbers of days separated by commas, for example 15, 30, 45."))
        edges = tuple(int(p) for p in parts)
        if len(edges) > MAX_BUCKET_EDGES:
            raise forms.ValidationError(_("At most %(n)d bucket ends, please.") % {"n": MAX_BUCKET_EDGES})
        if any(e < 1 or e > MAX_BUCKET_DAYS for e in edges):
            raise forms.ValidationError(
                _("Each bucket ends between 1 and %(max)d days overdue.") % {"max": MAX_BUCKET_DAYS})
        if list(edges) != sorted(set(edges)):
            raise forms.ValidationError(_("Each bucket must end later than the one before it, for example 15, 30, 45."))
        return edges

    @property
    def bucket_text(self) -> str:
        edges = self.cleaned_data.get("buckets", DEFAULT_BUCKET_EDGES) if self.is_bound and self.is_valid() \
            else DEFAULT_BUCKET_EDGES
        return ", ".join(map(str, edges))


class BalancesForm(PeriodForm, LevelForm):
    SORTS = BALANCES_SORTS
    field_order = ["start", "end", "currency", "group", "parent", "sort"]


class PaymentsForm(PeriodForm):
    SORTS = PAYMENTS_SORTS
    field_order = ["start", "end", "currency", "group", "sort"]


def default_aging_query() -> dict:
    return {"as_of": dt.date.isoformat(timezone.localdate())}


MAX_PERIOD_DAYS = 3660  # ten years: enough for any comparison, and the period before it stays a real date


class GroupInsightsForm(PeriodForm):
    """A period (this calendar month so far by default), a currency and optionally one group to open; the
    rows are the groups (or the group's members), in the groups' order, so there is nothing to sort."""

    field_order = ["start", "end", "currency", "group"]
    sort = None

    def wider_choices(self) -> list[tuple[str, str]]:
        return [("", _("Every group, one row each"))]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and not self.errors and ((end - start).days + 1 > MAX_PERIOD_DAYS or start.year < 1900):
            self.add_error("start", _("Choose a period of at most ten years, starting in 1900 or later."))
        return data
