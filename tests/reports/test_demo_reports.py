"""The demo as staff first see it: each report opened on its defaults (this calendar month so far, or the
ledger as of today) has figures to show, whatever day of the month the demo was loaded on."""

from datetime import date

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse

from billing.demo import HEAD_OFFICE, load_demo_organisation
from billing.demo_ledger import load_demo_ledger
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DEMO_GROUPS = ("Resellers", "Enterprise Customers", "Direct Customers")


# The 1st (a one-day period, compared with the last day of the month before), across a year's end, in February.
DAYS = [date(2026, 12, 1), date(2026, 12, 3), date(2027, 1, 1), date(2027, 2, 28), date(2027, 3, 31)]


@pytest.mark.parametrize("today", DAYS)
def test_each_report_opens_on_the_demo_with_figures_for_every_group(client, today):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_reports"))

    with time_machine.travel(today, tick=False):
        client.force_login(clerk)
        load_demo_organisation()
        load_demo_ledger()
        aging = client.get(reverse("admin:reports_aging"))
        balances = client.get(reverse("admin:reports_balances"))
        payments = client.get(reverse("admin:reports_payments"))
        groups = client.get(reverse("admin:reports_groups"))

    assert [r.status_code for r in (aging, balances, payments, groups)] == [200] * 4
    assert aging.context["report"].totals.total > 0 and aging.context["rows"]
    insights = groups.context["insights"]
    assert (insights.start, insights.end) == (today.replace(day=1), today)
    sales = {row.name: (row.figures.sales, row.figures.previous_sales) for row in insights.rows}
    for group in DEMO_GROUPS:  # sold this month so far, and in the days before to compare with
        assert sales[group][0] > 0 and sales[group][1] > 0, (group, sales[group])
        assert group in groups.content.decode()
    northwind = next(row for row in balances.context["report"].rows if row.name == HEAD_OFFICE)
    assert northwind.figures.invoiced > 0 and northwind.figures.paid > 0  # its branches' this month too
    assert balances.context["report"].totals.credited > 0
    assert len(payments.context["payments"]) >= 3 and payments.context["report"].totals.received > 0
