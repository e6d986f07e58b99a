"""Billing knows no CRM: integrations keep their links in their own tables and change customers
through billing's services, so a second CRM (Xero, HubSpot) is a new app and no billing migration."""

import ast
import importlib
from pathlib import Path

from django.apps import apps
from django.db.migrations.loader import MigrationLoader

BILLING = Path(apps.get_app_config("billing").path)
TEMPLATES = BILLING.parent / "templates" / "admin" / "billing"
INTEGRATIONS = ("crmsync",)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            found.update(arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return found


def test_billing_has_no_crm_column():
    columns = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_app_config("billing").get_models()
        for field in model._meta.get_fields()
        if field.concrete and (field.name.startswith("crm") or "zoho" in field.name)
    ]

    assert columns == []


def test_no_billing_module_imports_an_integration():
    offenders = [
        f"{path.relative_to(BILLING.parent)}: {module}"
        for path in sorted(BILLING.rglob("*.py"))
        for module in _imported_modules(path)
        if module.split(".")[0] in INTEGRATIONS
    ]

    assert offenders == []


def test_billing_templates_name_no_integration():
    offenders = [
        str(path.relative_to(TEMPLATES.parent))
        for path in sorted(TEMPLATES.rglob("*.html"))
        if any(name in path.read_text(encoding="utf-8") for name in (*INTEGRATIONS, "crm_"))
    ]

    assert offenders == []


def test_billing_migrations_depend_on_no_integration():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    dependencies = [
        (name, dependency)
        for (app, name), migration in loader.disk_migrations.items()
        if app == "billing"
        for dependency in migration.dependencies
        if dependency[0] in INTEGRATIONS
    ]

    assert dependencies == []


def test_the_check_sees_an_import_of_an_integration(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom crmsync.models import CrmLink\nimportlib.import_module('crmsync.selectors')\n")

    assert {"crmsync.models", "crmsync.selectors"} <= _imported_modules(sample)
    assert importlib.import_module("crmsync")  # the integration exists: the checks above are not vacuous
