"""The report filters: what a person typed, checked with messages they can act on."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Customer, CustomerGroup, Invoice, Organisation

from .selectors.aging import BY_GROUP, DEFAULT_BUCKET_EDGES, MAX_BUCKET_DAYS, MAX_BUCKET_EDGES, NO_GROUP

SORTS = {
    "total": _("Total owed, largest first"),
    "overdue": _("Overdue, largest first"),
    "oldest": _("Oldest bucket, largest first"),
    "name": _("Name"),
}


def invoice_currencies() -> list[str]:
    """The currencies customers are invoiced in, the organisation's base currency first (customers, not the
    invoices: a thousand rows to read, not two hundred thousand; an invoice is in its customer's currency)."""
    used = set(Customer.objects.order_by().values_list("currency", flat=True).distinct())
    base = Organisation.current().base_currency
    return sorted(used, key=lambda c: (c != base, c)) or [base]


class ReportFilters(forms.Form):
    """The filters reports share: a currency (customers' currencies, the base one first) and a group (any
    group, or the customers in none); `every_group_label` says what no group chosen means."""

    every_group_label = _("Every group")
    group_views: tuple[tuple[str, str], ...] = ()  # further ways to list every group: (value, label)

    currency = forms.ChoiceField(label=_("Currency"), required=False)
    group = forms.CharField(label=_("Group"), required=False, widget=forms.Select)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currencies = invoice_currencies()
        self.fields["currency"].choices = [(c, c) for c in self.currencies]
        self.groups = {str(pk): name for pk, name in CustomerGroup.objects.order_by("name").values_list("pk", "name")}
        self.fields["group"].widget.choices = [
            ("", self.every_group_label), *self.group_views, *self.groups.items(),
            (NO_GROUP, _("Customers in no group")),
        ]

    @property
    def hidden_errors(self) -> list[str]:
        """Messages about hidden fields (e.g. a missing parent), shown above the form: no field to show them by."""
        return [error for field in self.hidden_fields() for error in field.errors]

    def clean_currency(self):
        return self.cleaned_data.get("currency") or self.currencies[0]

    def clean_group(self):
        group = self.cleaned_data.get("group") or ""
        if group and group != NO_GROUP and group not in dict(self.group_views) and group not in self.groups:
            raise forms.ValidationError(
                _("There is no such group (it may have been deleted): choose one from the list."))
        return group or None


class AgingForm(ReportFilters):
    every_group_label = _("Every customer, by hierarchy")
    group_views = ((BY_GROUP, _("Every group, one row each")),)
    field_order = ["as_of", "buckets", "currency", "group", "parent", "sort"]

    as_of = forms.DateField(label=_("As of"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}),
                            help_text=_("The ledger as it stood at the end of this day. Empty: today."))
    buckets = forms.CharField(label=_("Buckets (days overdue)"), required=False, max_length=60,
                              help_text=_("Where each bucket ends, in days: 15, 30, 45 gives 1–15, 16–30, 31–45 "
                                          "and over 45."))
    parent = forms.IntegerField(label=_("Branches of"), required=False, min_value=1, widget=forms.HiddenInput)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=list(SORTS.items()))

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

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent is not None and not Customer.objects.filter(pk=parent).exists():
            raise forms.ValidationError(_("There is no such customer (it may have been deleted)."))
        return parent

    def clean_sort(self):
        return self.cleaned_data.get("sort") or "total"

    def clean(self):
        data = super().clean()
        if data.get("group") and data.get("parent"):
            data["parent"] = None  # a group is a flat list: "branches of" does not apply
        return data

    @property
    def bucket_text(self) -> str:
        edges = self.cleaned_data.get("buckets", DEFAULT_BUCKET_EDGES) if self.is_bound and self.is_valid() \
            else DEFAULT_BUCKET_EDGES
        return ", ".join(map(str, edges))


def default_aging_query() -> dict:
    return {"as_of": dt.date.isoformat(timezone.localdate())}


MAX_PERIOD_DAYS = 3660  # ten years: enough for any comparison, and the period before it stays a real date


class GroupInsightsForm(ReportFilters):
    """A period (this calendar month so far by default), a currency and optionally one group to open."""

    every_group_label = _("Every group, one row each")
    field_order = ["start", "end", "currency", "group"]

    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            help_text=_("Empty: the first day of the end's month."))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                          help_text=_("Included. Empty: today. Sales are compared with the same number of days "
                                      "just before the period."))

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
        end = data.get("end")
        if end is None:  # the end's own message stands
            return data
        start = data.get("start") or end.replace(day=1)
        if "start" in self.errors:
            return data
        if end < start:
            self.add_error("end", _("The period ends before it starts: choose an end on or after %(start)s.")
                           % {"start": start})
        elif (end - start).days + 1 > MAX_PERIOD_DAYS or start.year < 1900:
            self.add_error("start", _("Choose a period of at most ten years, starting in 1900 or later."))
        data["start"] = start
        return data
