"""The Reports section of the back office: an index and one page per report, behind `reports.view_reports`.

Every report page takes the same steps (`ReportAdmin._report_page`): parse the filters (reports/forms.py), call
a selector, then answer an export or render the page; a report names its form and the functions below that call
its selector and format its figures. The figures come from reports/selectors/, the charts from reports/charts.py
and the CSV and PDF from reports/exports.py.
"""

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from billing.models import Payment
from billing.money import format_money

from .charts import compact_amount, stacked_bars, stacked_columns
from .exports import PDF_MAX_ROWS, csv_response, report_pdf_response
from .forms import AgingForm, BalancesForm, GroupInsightsForm, PaymentsForm, ReportForm
from .models import Report
from .selectors.aging import aging_report
from .selectors.aging import sort_rows as sort_aging
from .selectors.balances import balances_report
from .selectors.balances import sort_rows as sort_balances
from .selectors.groups import group_insights
from .selectors.hierarchy import BY_GROUP, NO_GROUP
from .selectors.payments import payments_received, payments_report
from .tables import Table, TableRow

ROWS_PER_PAGE = 50
CHART_ROWS = 12
OWED_COLOURS = ("#2e7d32", "#e53935")  # not yet due, overdue

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
        exports = {"csv": _aging_csv, "pdf": _aging_pdf}
        return self._report_page(request, "aging", AgingForm, _aging_select, _aging_page, exports)

    def balances_view(self, request):
        exports = {"csv": _balances_csv, "pdf": _balances_pdf}
        return self._report_page(request, "balances", BalancesForm, _balances_select, _balances_page, exports)

    def payments_view(self, request):
        exports = {"csv": _payments_csv}
        return self._report_page(request, "payments", PaymentsForm, _payments_select, _payments_page, exports)

    def groups_view(self, request):
        exports = {"csv": _groups_csv, "months-csv": _monthly_csv, "pdf": _groups_pdf}
        return self._report_page(request, "groups", GroupInsightsForm, _groups_select, _groups_page, exports)

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


# The balances table's columns (AccountSubtotals' fields), their headings and what each holds.
BALANCE_HEADINGS = [
    ("opening_balance", _("Opening"), _("What the customer owed at the start of the period (below zero: in credit).")),
    (
        "invoiced",
        _("+ Invoiced"),
        _(
            "Its invoices dated in the period (not drafts, not void; retainer invoices are "
            "requests for an advance, not debts)."
        ),
    ),
    ("refunded", _("+ Refunded"), _("Money paid back to it in the period.")),
    (
        "transferred_out",
        _("+ To other accounts"),
        _("Its payments, credits and retainers applied to other customers' invoices in the period."),
    ),
    ("paid", _("− Received"), _("Payments received from it in the period (retainer payments included).")),
    ("credited", _("− Credit notes"), _("Credit notes issued to it in the period.")),
    (
        "transferred_in",
        _("− From other accounts"),
        _("Other customers' payments, credits and retainers applied to its invoices in the period."),
    ),
    ("closing_balance", _("= Closing"), _("What it owed at the end of the period: the columns before, added up.")),
]


def _balance_cells(currency: str, figures) -> list[str]:
    return [format_money(getattr(figures, name), currency) for name, _heading, _help in BALANCE_HEADINGS]


def _query(form) -> dict:
    """The filters the report used (the form's data, defaults written in), without the page and format."""
    return {k: v for k, v in form.data.dict().items() if k not in ("page", "format")}


def _level_of(data: dict) -> dict:
    """The level a report by customer shows: the branches of a parent, a group's members, a row per group."""
    return {"parent_id": data["parent"], "group": data["group"]}


def _money(currency: str) -> Callable[[Decimal], str]:
    return lambda amount: format_money(amount, currency)


def _level(report, page: Page, form, cells: Callable[[Any], list]) -> dict:
    """What a report by customer (aging, balances; admin/reports/_customer_table.html) shows at one level, but
    its columns: the page's rows, below the parent's own row when a parent's branches are shown, and the totals,
    each as `cells(figures)` formats them; the filters kept across pages (`query`), the exports, the top level
    and the breadcrumbs of the parents above the level shown."""
    query = _query(form)
    return {
        "report": report,
        "page": page,
        "own": _shown(report.own, cells(report.own.figures), query) if report.own else None,
        "rows": [_shown(row, cells(row.figures), query) for row in page.object_list],
        "totals": cells(report.totals),
        "query": urlencode(query),
        "csv_url": "?" + urlencode({**query, "format": "csv"}),
        "pdf_url": "?" + urlencode({**query, "format": "pdf"}),
        "pdf_max_rows": PDF_MAX_ROWS,
        "top_url": "?" + urlencode({k: v for k, v in query.items() if k not in ("parent", "group")}),
        "trail": [(name, "?" + urlencode({**query, "parent": pk})) for pk, name in report.trail],
    }


def _shown(row, cells: list, query: dict) -> dict:
    """A row as the table shows it: its cells, and a link to its branches when it has some (a row per group
    links to the group's members instead of a customer)."""
    if row.customer_id is None:
        link = "?" + urlencode({**{k: v for k, v in query.items() if k != "parent"}, "group": row.group_key})
        branches = ""
    else:
        link = reverse("admin:billing_customer_change", args=[row.customer_id])
        branches = "?" + urlencode({**{k: v for k, v in query.items() if k != "group"}, "parent": row.customer_id})
    return {"row": row, "cells": cells, "branches_url": branches if row.branches else "", "customer_url": link}


def _where(report, form) -> str:
    """The level shown, in words, for a PDF's subtitle."""
    group = form.cleaned_data["group"]
    return " › ".join(name for _pk, name in report.trail) or (
        (_("Every group") if group == BY_GROUP else form.groups.get(str(group), _("Customers in no group")))
        if group
        else _("Every customer, by hierarchy")
    )


def _aging_select(data: dict):
    report = aging_report(as_of=data["as_of"], currency=data["currency"], edges=data["buckets"], **_level_of(data))
    return report, sort_aging(report.rows, data["sort"])


def _aging_page(report, page: Page, form) -> dict:
    money = _money(report.currency)
    labels = [b.label for b in report.buckets]
    charted = ([(f"{report.own.name} (own invoices)", report.own.figures.amounts)] if report.own else []) + [
        (row.name, row.figures.amounts) for row in page.object_list[:CHART_ROWS]
    ]

    def cells(figures):
        return [*(money(a) if a else "–" for a in figures.amounts), money(figures.total), figures.invoices]

    return {
        **_level(report, page, form, cells),
        "columns": [*((label, "") for label in labels), (_("Total"), ""), (_("Invoices"), "")],
        "chart": stacked_bars(charted, labels, money=money) if charted else None,
    }


def _pdf_columns(amounts: list[str]) -> list[tuple[str, bool]]:
    """A report by customer's PDF columns: Customer, Group, then the amounts' headings (right-aligned)."""
    return [(_("Customer"), False), (_("Group"), False), *[(heading, True) for heading in amounts]]


def _aging_csv(report, rows, _form):
    labels = [b.label for b in report.buckets]
    header = ["Customer", "Group", "Figures", "Branches", *labels, "Total", "Invoices", "Currency", "As of"]

    def lines():
        for row in ([report.own] if report.own else []) + rows:
            kind = "own and branches" if row.consolidated else "own invoices"
            yield [
                row.name,
                row.group,
                kind,
                row.branches,
                *row.figures.amounts,
                row.figures.total,
                row.figures.invoices,
                report.currency,
                report.as_of.isoformat(),
            ]
        yield [
            "Total",
            "",
            "",
            "",
            *report.totals.amounts,
            report.totals.total,
            report.totals.invoices,
            report.currency,
            report.as_of.isoformat(),
        ]

    return csv_response(f"receivables-aging-{report.as_of.isoformat()}.csv", header, lines())


def _aging_pdf(report, rows, form):
    money = lambda amount: format_money(amount, report.currency) if amount else "–"  # noqa: E731
    labels = [b.label for b in report.buckets]
    lines = [
        [
            f"{r.name} (own invoices)" if r is report.own else r.name,
            r.group,
            *[money(a) for a in r.figures.amounts],
            format_money(r.figures.total, report.currency),
            str(r.figures.invoices),
        ]
        for r in ([report.own] if report.own else []) + rows
    ]
    totals = [
        "Total",
        "",
        *[format_money(a, report.currency) for a in report.totals.amounts],
        format_money(report.totals.total, report.currency),
        str(report.totals.invoices),
    ]
    numeric = set(range(2, len(labels) + 4))
    return report_pdf_response(
        filename=f"receivables-aging-{report.as_of.isoformat()}.pdf",
        title=_("Receivables aging"),
        heading=_("As of %(day)s") % {"day": report.as_of.strftime("%-d %b %Y")},
        subtitle=[
            _("Regular invoices in %(currency)s as the ledger stood at the end of the day · %(where)s")
            % {"currency": report.currency, "where": _where(report, form)}
        ],
        columns=_pdf_columns([*labels, _("Total"), _("Invoices")]),
        rows=lines,
        totals=totals,
        numeric=numeric,
        notes=[_("Consolidated rows add up a customer and everything under it. Rows that owed nothing are left out.")],
    )


def _balances_select(data: dict):
    report = balances_report(start=data["start"], end=data["end"], currency=data["currency"], **_level_of(data))
    return report, sort_balances(report.rows, data["sort"])


def _balances_page(report, page: Page, form) -> dict:
    return {
        **_level(report, page, form, partial(_balance_cells, report.currency)),
        "columns": [(heading, text) for _name, heading, text in BALANCE_HEADINGS],
    }


def _balances_csv(report, rows, _form):
    names = [name for name, _heading, _help in BALANCE_HEADINGS]
    header = [
        "Customer",
        "Group",
        "Figures",
        "Branches",
        "Opening",
        "Invoiced",
        "Refunded",
        "To other accounts",
        "Received",
        "Credit notes",
        "From other accounts",
        "Closing",
        "Currency",
        "From",
        "To",
    ]
    period = [report.currency, report.start.isoformat(), report.end.isoformat()]

    def lines():
        for row in ([report.own] if report.own else []) + rows:
            kind = "group members" if row.members else "own and branches" if row.consolidated else "own account"
            yield [row.name, row.group, kind, row.branches, *(getattr(row.figures, n) for n in names), *period]
        yield ["Total", "", "", "", *(getattr(report.totals, n) for n in names), *period]

    return csv_response(f"customer-balances-{report.start.isoformat()}-{report.end.isoformat()}.csv", header, lines())


def _balances_pdf(report, rows, form):
    lines = [
        [f"{r.name} (own account)" if r is report.own else r.name, r.group, *_balance_cells(report.currency, r.figures)]
        for r in ([report.own] if report.own else []) + rows
    ]
    days = {"start": report.start.strftime("%-d %b %Y"), "end": report.end.strftime("%-d %b %Y")}
    return report_pdf_response(
        filename=f"customer-balances-{report.start.isoformat()}-{report.end.isoformat()}.pdf",
        title=_("Customer balances"),
        heading=_("%(start)s to %(end)s") % days,
        subtitle=[
            _("Statement figures in %(currency)s, both days included · %(where)s")
            % {"currency": report.currency, "where": _where(report, form)}
        ],
        columns=_pdf_columns([heading for _name, heading, _help in BALANCE_HEADINGS]),
        rows=lines,
        totals=["Total", "", *_balance_cells(report.currency, report.totals)],
        numeric=set(range(2, len(BALANCE_HEADINGS) + 2)),
        notes=[
            _(
                "Each row adds up: opening + invoiced + refunded + to other accounts − received − credit notes − "
                "from other accounts = closing. A consolidated row is the statement of a customer and everything "
                "under it: money moved between two of its accounts is left out."
            )
        ],
    )


def _period(data: dict) -> dict:
    return dict(start=data["start"], end=data["end"], currency=data["currency"], group=data["group"])


def _payments_select(data: dict):
    """No report before the rows: the CSV lists the payments alone; the page reads the summary (_payments_page)."""
    return None, payments_received(**_period(data), sort=data["sort"])


def _payments_page(_report, page: Page, form) -> dict:
    report = payments_report(**_period(form.cleaned_data))
    money = _money(report.currency)

    def cells(line):
        return [
            line.payments,
            money(line.received),
            line.refunds,
            money(line.refunded),
            line.disputes,
            money(line.held),
            money(line.net),
        ]

    query = _query(form)
    return {
        "report": report,
        "page": page,
        "lines": [(line.label, cells(line)) for line in report.rows],
        "totals": cells(report.totals),
        "payments": [_payment_shown(payment, money) for payment in page.object_list],
        "query": urlencode(query),
        "csv_url": "?" + urlencode({**query, "format": "csv"}),
    }


def _payment_shown(payment, money) -> dict:
    return {
        "payment": payment,
        "url": reverse("admin:billing_payment_change", args=[payment.pk]),
        "customer_url": reverse("admin:billing_customer_change", args=[payment.customer_id]),
        "amount": money(payment.amount),
        "refunded": money(payment.refunded_amount) if payment.refunded_amount else "–",
    }


def _payments_csv(_report, payments, form):
    """Every payment as plain values: model instances and their choice labels cost ~0.3 ms a row, which at ten
    thousand payments is seconds; the labels are looked up once here."""
    header = ["Receipt", "Date", "Payer", "Method", "Gateway", "Status", "Amount", "Refunded (to date)", "Currency"]
    methods = {value: str(label) for value, label in Payment.Method.choices}
    statuses = {value: str(label) for value, label in Payment.Status.choices}
    disputed = str(_("Disputed"))
    rows = payments.values_list(
        "number",
        "paid_on",
        "customer__display_name",
        "method",
        "gateway",
        "status",
        "disputed",
        "amount",
        "refunded_amount",
        "currency",
    )

    def lines():
        for number, paid_on, payer, method, gateway, status, is_disputed, amount, refunded, currency in rows.iterator(
            chunk_size=2000
        ):
            yield [
                number,
                paid_on.isoformat(),
                payer,
                methods.get(method, method),
                gateway,
                disputed if is_disputed else statuses.get(status, status),
                amount,
                refunded,
                currency,
            ]

    data = form.cleaned_data
    return csv_response(f"payments-received-{data['start'].isoformat()}-{data['end'].isoformat()}.csv", header, lines())


def _groups_select(data: dict):
    insights = group_insights(start=data["start"], end=data["end"], currency=data["currency"], group=data["group"])
    return insights, insights.rows


def _groups_page(insights, page: Page, form) -> dict:
    query = _query(form)
    money = _money(insights.currency)
    owed = [
        (row.name, [row.figures.outstanding - row.figures.overdue, row.figures.overdue])
        for row in page.object_list[:CHART_ROWS]
        if row.figures.outstanding
    ]
    monthly = insights.monthly
    return {
        "insights": insights,
        "page": page,
        "table": _groups_table(insights, page.object_list, money, query),
        "owed_chart": stacked_bars(owed, [_("Not yet due"), _("Overdue")], money=money, colours=OWED_COLOURS)
        if owed
        else None,
        "monthly_chart": stacked_columns(monthly.series, monthly.months, money=money, compact=compact_amount)
        if monthly.series
        else None,
        "monthly_table": _monthly_table(insights, money),
        "query": urlencode(query),
        "csv_url": "?" + urlencode({**query, "format": "csv"}),
        "months_csv_url": "?" + urlencode({**query, "format": "months-csv"}),
        "pdf_url": "?" + urlencode({**query, "format": "pdf"}),
        "pdf_max_rows": PDF_MAX_ROWS,
        "top_url": "?" + urlencode({k: v for k, v in query.items() if k != "group"}),
    }


def _change(figures) -> str:
    change = figures.change_percent
    return "—" if change is None else f"{change:+.1f} %"


def _days(figures) -> str:
    days = figures.average_days_to_pay
    return "—" if days is None else f"{days:.1f}"


GROUP_FIGURES_HELP = [
    (
        _("Sales"),
        _(
            "Totals (tax included, after line discounts) of the regular invoices issued in the period, "
            "neither draft nor void. Previous period: the same number of days just before it."
        ),
    ),
    (_("Change"), _("(Sales − previous) ÷ previous, in per cent; — when nothing was sold in the previous period.")),
    (
        _("Outstanding, overdue"),
        _(
            "What the invoices owed at the end of the period's last day, as the ledger stood "
            "then; overdue is the part past its due date."
        ),
    ),
    (
        _("Average days to pay"),
        _(
            "Over the invoices paid off in the period (owing nothing at its end, the last "
            "payment, credit or retainer applied by then dated in the period): days from the "
            "invoice date to that last application, averaged. — when none was paid off."
        ),
    ),
    (_("Discount"), _("The line discounts of the invoices counted in sales.")),
]


def _groups_table(insights, rows, money, query: dict) -> Table:
    """Per group (each opens to its members) or, inside a group, per member (each links to the customer)."""

    def cells(figures) -> list[str]:
        shown = [
            money(figures.sales),
            money(figures.previous_sales),
            _change(figures),
            money(figures.outstanding),
            money(figures.overdue),
            _days(figures),
            money(figures.discount),
        ]
        return shown if insights.by_member else [str(figures.members), *shown]

    def shown(row) -> TableRow:
        if insights.by_member:
            url = reverse("admin:billing_customer_change", args=[row.key])
            return TableRow(row.name, cells(row.figures), url=url)
        url = "?" + urlencode({**query, "group": NO_GROUP if row.key is None else row.key})
        return TableRow(row.name, cells(row.figures), url=url, css="no-group" if row.key is None else "")

    heading = [(_("Customer"), False)] if insights.by_member else [(_("Group"), False), (_("Members"), True)]
    caption = (
        _("Members of %(group)s in %(currency)s") if insights.by_member else _("Customer groups in %(currency)s")
    ) % {"group": insights.group[1] if insights.group else "", "currency": insights.currency}
    return Table(
        caption=caption,
        columns=[
            *heading,
            (_("Sales"), True),
            (_("Previous period"), True),
            (_("Change"), True),
            (_("Outstanding"), True),
            (_("Overdue"), True),
            (_("Average days to pay"), True),
            (_("Discount"), True),
        ],
        rows=[shown(row) for row in rows],
        footer=TableRow(_("Total"), cells(insights.totals)),
        help=GROUP_FIGURES_HELP,
    )


def _monthly_table(insights, money) -> Table:
    monthly = insights.monthly
    names = [name for name, _amounts in monthly.series]
    totals = monthly.totals
    rows = [
        TableRow(f"{month:%b %Y}", [*(money(amounts[i]) for _n, amounts in monthly.series), money(totals[i])])
        for i, month in enumerate(monthly.months)
    ]
    return Table(
        caption=_("Sales by group per month in %(currency)s") % {"currency": insights.currency},
        columns=[(_("Month"), False), *((name, True) for name in names), (_("Total"), True)],
        rows=rows,
        footer=TableRow(_("Total"), [*(money(sum(a)) for _n, a in monthly.series), money(sum(totals))]),
    )


def _groups_csv(insights, _rows, _form):
    first = "Customer" if insights.by_member else "Group"
    header = [
        first,
        "Members",
        "Sales",
        "Previous period sales",
        "Change %",
        "Invoices",
        "Outstanding",
        "Overdue",
        "Invoices paid off",
        "Average days to pay",
        "Discount",
        "Currency",
        "From",
        "To",
        "Previous from",
        "Previous to",
    ]
    period = [
        insights.currency,
        insights.start.isoformat(),
        insights.end.isoformat(),
        insights.previous_start.isoformat(),
        insights.previous_end.isoformat(),
    ]

    def figures(f) -> list:
        change, days = f.change_percent, f.average_days_to_pay
        return [
            f.members,
            f.sales,
            f.previous_sales,
            "" if change is None else round(change, 1),
            f.invoices,
            f.outstanding,
            f.overdue,
            f.paid_invoices,
            "" if days is None else round(days, 1),
            f.discount,
        ]

    def lines():
        for row in insights.rows:
            yield [row.name, *figures(row.figures), *period]
        yield ["Total", *figures(insights.totals), *period]

    scope = _slug(insights.group[1]) if insights.group else ""
    name = "-".join(
        part for part in ("group-insights", scope, insights.start.isoformat(), insights.end.isoformat()) if part
    )
    return csv_response(f"{name}.csv", header, lines())


def _monthly_csv(insights, _rows, _form):
    monthly = insights.monthly
    header = ["Month", *(name for name, _amounts in monthly.series), "Total", "Currency"]

    def lines():
        for i, month in enumerate(monthly.months):
            yield [
                f"{month:%Y-%m}",
                *(amounts[i] for _n, amounts in monthly.series),
                monthly.totals[i],
                insights.currency,
            ]

    return csv_response(f"sales-by-group-per-month-to-{insights.end.isoformat()}.csv", header, lines())


def _slug(text: str) -> str:
    """A group's name as a file name may carry it: lower-case letters and digits joined by dashes."""
    return "-".join(word for word in re.split(r"[^a-z0-9]+", text.lower()) if word)[:40]


def _groups_pdf(insights, rows, form):
    """The table as the page shows it (every row), in the documents' style."""
    table = _groups_table(insights, rows, _money(insights.currency), _query(form))
    period = _("%(start)s to %(end)s, compared with %(pstart)s to %(pend)s") % {
        "start": _day(insights.start),
        "end": _day(insights.end),
        "pstart": _day(insights.previous_start),
        "pend": _day(insights.previous_end),
    }
    scope = insights.group[1] if insights.group else _("Every group")
    return report_pdf_response(
        filename="-".join(
            part
            for part in (
                "group-insights",
                _slug(insights.group[1]) if insights.group else "",
                insights.start.isoformat(),
                insights.end.isoformat(),
            )
            if part
        )
        + ".pdf",
        title=_("Group insights"),
        heading=period,
        subtitle=[_("Regular invoices in %(currency)s · %(scope)s") % {"currency": insights.currency, "scope": scope}],
        columns=table.columns,
        rows=[[row.name, *row.cells] for row in table.rows],
        totals=[table.footer.name, *table.footer.cells],
        numeric={index for index, (_heading, numeric) in enumerate(table.columns) if numeric},
        notes=[f"{term}: {text}" for term, text in table.help],
    )


def _day(day) -> str:
    return f"{day.day} {day:%b %Y}"
