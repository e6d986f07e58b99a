"""The Reports section of the back office: an index and one page per report, behind `reports.view_reports`.

The admin classes parse the filters (reports/forms.py), call a selector and render; the figures come from
reports/selectors/, the charts from reports/charts.py and the CSV from reports/exports.py.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from billing.money import format_money

from .charts import stacked_bars
from .exports import PDF_MAX_ROWS, csv_response, report_pdf_response
from .forms import AgingForm
from .models import Report
from .selectors.aging import DEFAULT_BUCKET_EDGES, aging_report, sort_rows

ROWS_PER_PAGE = 50
CHART_ROWS = 12

REPORTS = [
    ("reports_aging", _("Receivables aging"),
     _("What customers owe by how long it is overdue, as of any day, per customer and per hierarchy.")),
]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """No rows to list: the changelist is the reports' index."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.has_perm("reports.view_reports")

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("aging/", view(self.aging_view), name="reports_aging"),
            path("", view(self.changelist_view), name="reports_report_changelist"),
        ]

    def _context(self, request, title: str) -> dict:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return {**self.admin_site.each_context(request), "title": title, "opts": self.opts}

    def changelist_view(self, request, extra_context=None):
        context = self._context(request, _("Reports"))
        context["reports"] = [(reverse(f"admin:{name}"), title, text) for name, title, text in REPORTS]
        return TemplateResponse(request, "admin/reports/index.html", context)

    def aging_view(self, request):
        context = self._context(request, _("Receivables aging"))
        form = AgingForm(_with_defaults(request.GET))
        context["form"] = form
        if not form.is_valid():
            return TemplateResponse(request, "admin/reports/aging.html", context, status=400)
        data = form.cleaned_data
        report = aging_report(as_of=data["as_of"], currency=data["currency"], edges=data["buckets"],
                              parent_id=data["parent"], group=data["group"])
        rows = sort_rows(report.rows, data["sort"])
        if request.GET.get("format") == "csv":
            return _aging_csv(report, rows)
        if request.GET.get("format") == "pdf":
            return _aging_pdf(report, rows, form)
        page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
        money = lambda amount: format_money(amount, report.currency)  # noqa: E731
        labels = [b.label for b in report.buckets]
        charted = ([(f"{report.own.name} (own invoices)", report.own.figures.amounts)] if report.own else []) + [
            (row.name, row.figures.amounts) for row in page.object_list[:CHART_ROWS]]
        query = {k: v for k, v in form.data.dict().items() if k not in ("page", "format")}
        context.update(
            report=report,
            page=page,
            labels=labels,
            own=_shown(report.own, money, query) if report.own else None,
            rows=[_shown(row, money, query) for row in page.object_list],
            totals=[money(a) for a in report.totals.amounts],
            total=money(report.totals.total),
            chart=stacked_bars(charted, labels, money=money) if charted else None,
            query=urlencode(query),
            csv_url="?" + urlencode({**query, "format": "csv"}),
            pdf_url="?" + urlencode({**query, "format": "pdf"}),
            pdf_max_rows=PDF_MAX_ROWS,
            top_url="?" + urlencode({k: v for k, v in query.items() if k not in ("parent", "group")}),
            trail=[(name, "?" + urlencode({**query, "parent": pk})) for pk, name in report.trail],
        )
        return TemplateResponse(request, "admin/reports/aging.html", context)


def _with_defaults(query):
    """The filters as typed, with today and the default buckets written in where left empty: the form shows
    what the report used, and a link copied from the page keeps meaning the same day."""
    data = query.copy()
    if not data.get("as_of"):
        data["as_of"] = timezone.localdate().isoformat()
    if not data.get("buckets"):
        data["buckets"] = ", ".join(map(str, DEFAULT_BUCKET_EDGES))
    return data


def _shown(row, money, query: dict) -> dict:
    """A row as the table shows it: formatted amounts, and a link to its branches when it has some."""
    if row.customer_id is None:  # a row per group: it opens the group's members
        link = "?" + urlencode({**{k: v for k, v in query.items() if k != "parent"}, "group": row.group_key})
        branches = ""
    else:
        link = reverse("admin:billing_customer_change", args=[row.customer_id])
        branches = "?" + urlencode({**{k: v for k, v in query.items() if k != "group"}, "parent": row.customer_id})
    return {
        "row": row,
        "amounts": [money(a) if a else "–" for a in row.figures.amounts],
        "total": money(row.figures.total),
        "branches_url": branches if row.branches else "",
        "customer_url": link,
    }


def _aging_csv(report, rows):
    labels = [b.label for b in report.buckets]
    header = ["Customer", "Group", "Figures", "Branches", *labels, "Total", "Invoices", "Currency", "As of"]

    def lines():
        for row in ([report.own] if report.own else []) + rows:
            kind = "own and branches" if row.consolidated else "own invoices"
            yield [row.name, row.group, kind, row.branches, *row.figures.amounts, row.figures.total,
                   row.figures.invoices, report.currency, report.as_of.isoformat()]
        yield ["Total", "", "", "", *report.totals.amounts, report.totals.total, report.totals.invoices,
               report.currency, report.as_of.isoformat()]

    return csv_response(f"receivables-aging-{report.as_of.isoformat()}.csv", header, lines())


def _aging_pdf(report, rows, form):
    money = lambda amount: format_money(amount, report.currency) if amount else "–"  # noqa: E731
    labels = [b.label for b in report.buckets]
    lines = [[f"{r.name} (own invoices)" if r is report.own else r.name, r.group,
              *[money(a) for a in r.figures.amounts], format_money(r.figures.total, report.currency),
              str(r.figures.invoices)] for r in ([report.own] if report.own else []) + rows]
    totals = ["Total", "", *[format_money(a, report.currency) for a in report.totals.amounts],
              format_money(report.totals.total, report.currency), str(report.totals.invoices)]
    where = " › ".join(name for _pk, name in report.trail) or (
        form.groups.get(str(form.cleaned_data["group"]), _("Customers in no group")) if form.cleaned_data["group"]
        else _("Every customer, by hierarchy"))
    numeric = set(range(2, len(labels) + 4))
    return report_pdf_response(
        filename=f"receivables-aging-{report.as_of.isoformat()}.pdf",
        title=_("Receivables aging"),
        heading=_("As of %(day)s") % {"day": report.as_of.strftime("%-d %b %Y")},
        subtitle=[_("Regular invoices in %(currency)s as the ledger stood at the end of the day · %(where)s")
                  % {"currency": report.currency, "where": where}],
        columns=[(_("Customer"), False), (_("Group"), False), *[(label, True) for label in labels],
                 (_("Total"), True), (_("Invoices"), True)],
        rows=lines, totals=totals, numeric=numeric,
        notes=[_("Consolidated rows add up a customer and everything under it. Rows that owed nothing are left out.")],
    )
