"""The Reports section of the back office: an index and one page per report, behind `reports.view_reports`.

Every report page takes the same steps (`ReportAdmin._report_page`, here): parse the filters (reports/forms.py), call
a selector, then answer an export or render the page. A report names its form and the functions of its own module
(aging.py, balances.py, payments.py, groups.py: `select`, `page_context` and its exports) that call its selector and
format its figures; what several reports share is in common.py. The figures come from reports/selectors/, the charts
from reports/charts.py and the CSV and PDF from reports/exports.py.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from billing.admin.view_only import ViewOnlyAdminMixin

from ..forms import AgingForm, BalancesForm, GroupInsightsForm, PaymentsForm, ReportForm
from ..models import Report
from . import aging, balances, groups, payments

ROWS_PER_PAGE = 50


REPORTS = [
    (
        "reports_aging",
        _("Receivables aging"),
        _("What customers owe by how long it is overdue, as of any day, per customer and per hierarchy."),
    ),
    (
        "reports_balances",
        _("Customer balances"),
        _(
            "Each customer's opening balance, invoices, payments, credits, refunds and closing balance for a period, "
            "per customer, per hierarchy and per group."
        ),
    ),
    (
        "reports_payments",
        _("Payments received"),
        _(
            "The payments of a period by method and gateway: received, refunded, held by disputes and net, with the "
            "list of payments."
        ),
    ),
    (
        "reports_groups",
        _("Group insights"),
        _(
            "Per customer group: members, sales against the period before, outstanding and overdue, days to pay, "
            "discount given; sales by group per month."
        ),
    ),
]


TITLES = {name.removeprefix("reports_"): title for name, title, _text in REPORTS}


@admin.register(Report)
class ReportAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """No rows to list: the changelist is the reports' index."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.has_perm("reports.view_reports")

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("aging/", view(self.aging_view), name="reports_aging"),
            path("groups/", view(self.groups_view), name="reports_groups"),
            path("balances/", view(self.balances_view), name="reports_balances"),
            path("payments/", view(self.payments_view), name="reports_payments"),
            path("", view(self.changelist_view), name="reports_report_changelist"),
        ]

    def _context(self, request, title: str) -> dict:
        if not self.has_view_permission(request):
            raise PermissionDenied
        # Reports are wide (a chart beside its table): the page takes the width the admin's side menu would.
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "is_nav_sidebar_enabled": False,
        }

    def changelist_view(self, request, extra_context=None):
        context = self._context(request, _("Reports"))
        context["reports"] = [(reverse(f"admin:{name}"), title, text) for name, title, text in REPORTS]
        return TemplateResponse(request, "admin/reports/index.html", context)

    def aging_view(self, request):
        exports = {"csv": aging.csv, "pdf": aging.pdf}
        return self._report_page(request, "aging", AgingForm, aging.select, aging.page_context, exports)

    def balances_view(self, request):
        exports = {"csv": balances.csv, "pdf": balances.pdf}
        return self._report_page(request, "balances", BalancesForm, balances.select, balances.page_context, exports)

    def payments_view(self, request):
        exports = {"csv": payments.csv}
        return self._report_page(request, "payments", PaymentsForm, payments.select, payments.page_context, exports)

    def groups_view(self, request):
        exports = {"csv": groups.csv, "months-csv": groups.monthly_csv, "pdf": groups.pdf}
        return self._report_page(request, "groups", GroupInsightsForm, groups.select, groups.page_context, exports)

    def _report_page(
        self,
        request,
        name: str,
        form_class: type[ReportForm],
        select: Callable[[dict], tuple[Any, Sequence]],
        page_context: Callable[[Any, Page, ReportForm], dict],
        exports: dict[str, Callable[[Any, Sequence, ReportForm], HttpResponse]],
    ) -> HttpResponse:
        """The report `name` (its title in REPORTS, its template admin/reports/<name>.html), the same steps for
        every report: the filters (a 400 with the form's messages when they do not hold); `select(cleaned data)`,
        the selector call, gives the report and its rows in the order chosen; `?format=` naming one of `exports`
        answers `export(report, rows, form)` (every row); else the template shows the rows' page with what
        `page_context(report, page, form)` formats."""
        template = f"admin/reports/{name}.html"
        context = self._context(request, TITLES[name])
        form = form_class(form_class.filled(request.GET))
        context["form"] = form
        if not form.is_valid():
            return TemplateResponse(request, template, context, status=400)
        report, rows = select(form.cleaned_data)
        export = exports.get(request.GET.get("format"))
        if export is not None:
            return export(report, rows, form)
        page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
        context.update(page_context(report, page, form))
        return TemplateResponse(request, template, context)
