from django.apps import AppConfig


class CrmsyncConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crmsync"
    verbose_name = "CRM sync"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
        from .admin.links import register

        register()  # the CRM's links, filters and potentials on billing's admin pages
