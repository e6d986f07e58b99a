"""What every report page shares: who may open it, and what bad filters get (a message on the form and a 400,
never a 500 and never a report: the filters are checked before any figure is read)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import ContactPersonFactory, UserFactory

from .ledger import northwind

pytestmark = pytest.mark.django_db

REPORTS = ["admin:reports_aging", "admin:reports_balances", "admin:reports_payments", "admin:reports_groups"]

BAD_FILTERS = [
    # aging
    ("admin:reports_aging", {"as_of": "2999-01-01"}, "cannot look ahead"),
    ("admin:reports_aging", {"as_of": "2020-01-01"}, "Nothing was invoiced before 2026-01-10"),
    ("admin:reports_aging", {"as_of": "not a date"}, "Enter a valid date"),
    ("admin:reports_aging", {"buckets": "30, 15"}, "must end later than the one before"),
    ("admin:reports_aging", {"buckets": "ten, twenty"}, "whole numbers of days"),
    ("admin:reports_aging", {"buckets": "0"}, "between 1 and 3650"),
    ("admin:reports_aging", {"buckets": ",".join(str(n) for n in range(1, 12))}, "At most 8"),
    ("admin:reports_aging", {"group": "999999"}, "no such group"),
    ("admin:reports_aging", {"parent": "999999"}, "no such customer"),
    ("admin:reports_aging", {"currency": "XYZ"}, "Select a valid choice"),
    ("admin:reports_aging", {"sort": "random()"}, "Select a valid choice"),
    # balances
    ("admin:reports_balances", {"start": "2026-03-10", "end": "2026-03-09"}, "The period ends before it starts"),
    ("admin:reports_balances", {"end": "2999-01-01"}, "cannot end in the future"),
    ("admin:reports_balances", {"start": "not a date"}, "Enter a valid date"),
    ("admin:reports_balances", {"group": "999999"}, "no such group"),
    ("admin:reports_balances", {"parent": "999999"}, "no such customer"),
    ("admin:reports_balances", {"currency": "XYZ"}, "Select a valid choice"),
    ("admin:reports_balances", {"sort": "random()"}, "Select a valid choice"),
    # payments
    ("admin:reports_payments", {"start": "2026-03-10", "end": "2026-03-09"}, "The period ends before it starts"),
    ("admin:reports_payments", {"end": "2999-01-01"}, "cannot end in the future"),
    ("admin:reports_payments", {"end": "yesterday"}, "Enter a valid date"),
    ("admin:reports_payments", {"group": "999999"}, "no such group"),
    ("admin:reports_payments", {"group": "groups"}, "no such group"),
    ("admin:reports_payments", {"currency": "XYZ"}, "Select a valid choice"),
    ("admin:reports_payments", {"sort": "-amount"}, "Select a valid choice"),
    # groups
    ("admin:reports_groups", {"start": "2026-03-10", "end": "2026-03-01"}, "The period ends before it starts"),
    ("admin:reports_groups", {"end": "2999-01-01"}, "cannot end in the future"),
    ("admin:reports_groups", {"start": "0001-01-01", "end": "2026-03-01"}, "at most ten years"),
    ("admin:reports_groups", {"start": "yesterday"}, "Enter a valid date"),
    ("admin:reports_groups", {"group": "999999"}, "no such group"),
    ("admin:reports_groups", {"currency": "XYZ"}, "Select a valid choice"),
]


@pytest.mark.parametrize("report, query, message", BAD_FILTERS)
def test_bad_filters_get_a_message_not_an_error(staff, report, query, message):
    northwind()

    response = staff.get(reverse(report), query)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert "rows" not in response.context and "report" not in response.context


@pytest.mark.parametrize("report", REPORTS)
def test_only_staff_with_the_reports_permission_get_in(client, report):
    northwind()
    url, index = reverse(report), reverse("admin:index")
    clerk = UserFactory(is_staff=True)
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    assert "/admin/reports/" not in client.get(index).content.decode()

    clerk.user_permissions.add(Permission.objects.get(codename="view_reports"))
    client.force_login(type(clerk).objects.get(pk=clerk.pk))
    assert client.get(url).status_code == 200
    assert "/admin/reports/" in client.get(index).content.decode()
    assert url in client.get(reverse("admin:reports_report_changelist")).content.decode()

    client.force_login(ContactPersonFactory().user)
    assert client.get(url).status_code == 302  # to the admin login: a customer is not staff
