"""What several reports share: the filters a page keeps, money as shown, and a report by customer's level (aging,
balances: its rows and links, its PDF subtitle and columns). The report modules import it; it imports none of them."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.paginator import Page
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from billing.money import format_money

from ..exports import PDF_MAX_ROWS
from ..selectors.hierarchy import BY_GROUP

CHART_ROWS = 12


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


def _pdf_columns(amounts: list[str]) -> list[tuple[str, bool]]:
    """A report by customer's PDF columns: Customer, Group, then the amounts' headings (right-aligned)."""
    return [(_("Customer"), False), (_("Group"), False), *[(heading, True) for heading in amounts]]
