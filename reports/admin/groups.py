"""Group insights: the selector call, the page's tables and charts, the CSVs (per group, per month) and the PDF."""

import re

from django.core.paginator import Page
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from ..charts import compact_amount, stacked_bars, stacked_columns
from ..exports import PDF_MAX_ROWS, csv_response, report_pdf_response
from ..selectors.groups import group_insights
from ..selectors.hierarchy import NO_GROUP
from ..tables import Table, TableRow
from .common import CHART_ROWS, _money, _query

OWED_COLOURS = ("#2e7d32", "#e53935")  # not yet due, overdue


def select(data: dict):
    insights = group_insights(start=data["start"], end=data["end"], currency=data["currency"], group=data["group"])
    return insights, insights.rows


def page_context(insights, page: Page, form) -> dict:
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


def csv(insights, _rows, _form):
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


def monthly_csv(insights, _rows, _form):
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


def pdf(insights, rows, form):
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
