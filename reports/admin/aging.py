"""Receivables aging: the selector call, the page's figures and chart, the CSV and the PDF."""

from django.core.paginator import Page
from django.utils.translation import gettext as _

from billing.money import format_money

from ..charts import stacked_bars
from ..exports import csv_response, report_pdf_response
from ..selectors.aging import aging_report
from ..selectors.aging import sort_rows as sort_aging
from .common import CHART_ROWS, _level, _level_of, _money, _pdf_columns, _where


def select(data: dict):
    report = aging_report(as_of=data["as_of"], currency=data["currency"], edges=data["buckets"], **_level_of(data))
    return report, sort_aging(report.rows, data["sort"])


def page_context(report, page: Page, form) -> dict:
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


def csv(report, rows, _form):
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


def pdf(report, rows, form):
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
