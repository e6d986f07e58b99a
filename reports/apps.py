from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Back-office reports over the ledger (receivables aging, …): read-only, behind `reports.view_reports`."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Reports"
