"""Portal views read through portal.selectors and nothing else, so every read is scoped by the one visibility
rule: a view that built its own query (`Invoice.objects.filter(customer=...)`) could show another customer's
rows. A source scan, so the rule cannot silently regress."""

import ast
from pathlib import Path

import portal.views

VIEWS = Path(portal.views.__file__).parent
# What a view may not do itself: build a query from a model's manager, state visibility, or import the ledger's
# query helpers (they belong in portal/selectors/, which takes the request's scope).
FORBIDDEN_CALLS = {"visible_customers", "visible_customer_rows", "visible_root", "customers_under"}
FORBIDDEN_IMPORTS = ("billing.selectors.balances", "billing.selectors.customers", "billing.selectors.sql")


def _view_modules():
    return sorted(VIEWS.glob("*.py"))


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("objects", "_default_manager", "_base_manager"):
            found.append(f"{path.name}:{node.lineno} uses a model manager (.{node.attr})")
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in FORBIDDEN_CALLS:
                found.append(f"{path.name}:{node.lineno} calls {name}(")
        if isinstance(node, ast.ImportFrom) and node.module in FORBIDDEN_IMPORTS:
            found.extend(f"{path.name}:{node.lineno} imports {node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_portal_view_builds_its_own_query_or_states_visibility():
    problems = [problem for path in _view_modules() for problem in _problems(path)]

    assert problems == []


def test_the_scan_finds_a_view_that_filters_invoices_itself(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from billing.selectors import visible_customers\n"
        "from billing.selectors.customers import visible_root\n"
        "def view(request):\n"
        "    return Invoice.objects.filter(customer__in=visible_customers(user=request.user))\n"
    )

    assert len(_problems(bad)) == 3


def test_every_portal_view_goes_through_the_portal_view_decorator():
    """Each function a portal URL names is wrapped by `portal_view` (login, portal access, the scope), except
    the invitation a forwarded document's recipient opens before having a login."""
    from django.urls import get_resolver

    from portal.views.access import portal_view

    wrapped = portal_view(lambda request: None).__code__
    public = {"forward_invitation"}
    unwrapped = []
    for pattern in _portal_patterns(get_resolver()):
        view = pattern.callback
        if view.__name__ in public or view.__module__ == "portal.views.staff_login":
            continue
        if wrapped not in _codes_of(view):
            unwrapped.append(f"{view.__module__}.{view.__name__}")

    assert unwrapped == []


def _portal_patterns(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _portal_patterns(pattern, pattern.namespace or namespace)
        elif namespace == "portal" and pattern.callback.__module__.startswith("portal.views"):
            yield pattern


def _codes_of(view):
    """The code of the view and of each decorator around it (functools.wraps keeps `__wrapped__`)."""
    codes = []
    while view is not None:
        codes.append(view.__code__)
        view = getattr(view, "__wrapped__", None)
    return codes
