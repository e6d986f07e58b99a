"""Every database test of the billing suite ends with `manage.py check_ledger`.

A test that leaves balances, allocations or parent money inconsistent fails even when its
own assertions pass. Tests that corrupt the ledger on purpose (to prove check_ledger sees it)
are marked `ledger_left_broken`.
"""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def pytest_configure(config):
    config.addinivalue_line("markers", "ledger_left_broken: the test corrupts the ledger on purpose")


@pytest.fixture(autouse=True)
def ledger_checked(request):
    yield
    if request.node.get_closest_marker("django_db") is None or request.node.get_closest_marker("ledger_left_broken"):
        return  # no database (or a hypothesis TestCase, which checks after each example itself)
    err = _Sink()
    try:
        call_command("check_ledger", stdout=_Sink(), stderr=err)
    except CommandError:
        pytest.fail("check_ledger after the test:\n" + err.text)


class _Sink:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass
