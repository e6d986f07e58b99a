"""The admin's date drill-down (`date_hierarchy`) over a long list, read through the date's index.

Django lists a drill-down level's years, months or days with `SELECT DISTINCT DATE_TRUNC(…)` over every row the
list filters: 200,000 invoices read for the years of the invoice list (~70 ms at 1,000 branches × 200 invoices,
every time the list opens). Here each level is a loose index scan: the first date, then the first date on or
after the next period, and so on, one index probe per period shown (a few ms). Same choices, same links: Django's
own `date_hierarchy` builds them, from these dates.

Only for a list whose date has an index leading with it over the rows the list shows (`date_hierarchy_indexed`
on the admin): without one each probe would read the table. On SQLite (`make run`'s default) Django's query.
"""

import datetime as dt

from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.core.exceptions import EmptyResultSet
from django.db import connections

_STEP = {"year": "1 year", "month": "1 month", "day": "1 day"}


def distinct_periods(queryset, field_name: str, kind: str) -> list[dt.date]:
    """The first day of each `kind` ("year", "month", "day") in which `queryset` has a row, ascending: what
    `queryset.dates(field_name, kind)` returns, one index probe per period."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return list(queryset.dates(field_name, kind))
    column = connection.ops.quote_name(queryset.model._meta.get_field(field_name).column)
    try:
        rows_sql, params = queryset.order_by().values(field_name).query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (`.none()`, `pk__in=[]`)
        return []
    step = _STEP[kind]
    sql = f"""
        WITH RECURSIVE found(d) AS (
            SELECT (SELECT MIN(s.{column}) FROM ({rows_sql}) s)
            UNION ALL
            SELECT (SELECT MIN(s.{column}) FROM ({rows_sql}) s
                    WHERE s.{column} >= (date_trunc('{kind}', found.d) + interval '{step}')::date)
            FROM found WHERE found.d IS NOT NULL
        )
        SELECT date_trunc('{kind}', d)::date FROM found WHERE d IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, *params))
        return [row[0] for row in cursor.fetchall()]


class _IndexedDates:
    """A changelist's queryset as Django's `date_hierarchy` reads it: `dates()` through `distinct_periods`."""

    def __init__(self, queryset):
        self._queryset = queryset

    def aggregate(self, *args, **kwargs):
        return self._queryset.aggregate(*args, **kwargs)

    def dates(self, field_name, kind, order="ASC"):
        periods = distinct_periods(self._queryset, field_name, kind)
        return periods if order == "ASC" else periods[::-1]


class _ChangeListForDates:
    """The changelist with `queryset` seen through `_IndexedDates`; everything else is the changelist's."""

    def __init__(self, changelist):
        self._changelist = changelist
        self.queryset = _IndexedDates(changelist.queryset)

    def __getattr__(self, name):
        return getattr(self._changelist, name)


def indexed_date_hierarchy(changelist) -> dict | None:
    """Django's `date_hierarchy` context for `changelist`, its dates read through the index when the admin says
    it has one (`date_hierarchy_indexed`)."""
    if getattr(changelist.model_admin, "date_hierarchy_indexed", False):
        return date_hierarchy(_ChangeListForDates(changelist))
    return date_hierarchy(changelist)
