"""Sync history: every run with its counts and each failure's record and reason (read-only)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.admin.view_only import ViewOnlyAdminMixin
from crmsync.models import SyncFailure, SyncRun


class SyncFailureInline(admin.TabularInline):
    model = SyncFailure
    fields = ("direction", "module", "record_name", "crm_id", "customer_id", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("failure or note")
    verbose_name_plural = _("failures and notes")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "started_at",
        "trigger",
        "status",
        "added",
        "updated",
        "deleted",
        "unlinked",
        "skipped",
        "failed",
        "duplicates_cloned",
        "duplicates_overwritten",
        "duplicates_skipped",
        "pushed_added",
        "pushed_updated",
        "documents_pushed",
        "finished_at",
        "reason",
    )
    list_filter = ("status", "trigger", "is_incremental")
    search_fields = ("message",)
    date_hierarchy = "started_at"
    inlines = [SyncFailureInline]
    fieldsets = (
        (None, {"fields": ("trigger", "status", "message", "started_at", "finished_at", "is_incremental")}),
        (
            _("Records"),
            {
                "fields": (
                    ("added", "updated", "deleted", "unlinked"),
                    ("skipped", "failed"),
                    ("duplicates_cloned", "duplicates_overwritten", "duplicates_skipped"),
                    ("pushed_added", "pushed_updated", "receivables_pushed", "invoices_from_deals", "documents_pushed"),
                )
            },
        ),
        (_("Progress"), {"fields": ("current_step", "records_seen", "pages_done", "http_requests")}),
    )

    @admin.display(description=_("reason"))
    def reason(self, run: SyncRun) -> str:
        """Why it ran, and why it failed or was skipped, in one cell."""
        return run.reason

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in SyncRun._meta.fields]
