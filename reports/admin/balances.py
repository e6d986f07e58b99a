"""Customer balances: the selector call, the page's columns, the CSV and the PDF."""

from functools import partial

from django.core.paginator import Page
from django.utils.translation import gettext as _

from billing.money import format_money

from ..exports import csv_response, report_pdf_response
from ..selectors.balances import balances_report
from ..selectors.balances import sort_rows as sort_balances
from .common import _level, _level_of, _pdf_columns, _where

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


def select(data: dict):
    report = balances_report(start=data["start"], end=data["end"], currency=data["currency"], **_level_of(data))
    return report, sort_balances(report.rows, data["sort"])


def page_context(report, page: Page, form) -> dict:
    return {
        **_level(report, page, form, partial(_balance_cells, report.currency)),
        "columns": [(heading, text) for _name, heading, text in BALANCE_HEADINGS],
    }


def csv(report, rows, _form):
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


def pdf(report, rows, form):
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
