from django.db import models
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    """No table: the admin's "Reports" entry and the permission that opens it.

    Reports read the ledger; they keep nothing of their own. Django's admin lists a section per
    registered model, so this unmanaged model gives the reports their place on the admin index and
    `reports.view_reports`, the one permission a staff member needs to open them (superusers have it).
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", _("Can view back-office reports"))]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self):
        return str(self._meta.verbose_name)
