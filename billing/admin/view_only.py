"""Back-office pages that only show what the system recorded: nothing is added, changed or deleted there."""


class ViewOnlyAdminMixin:
    """A ModelAdmin whose rows staff may look at (its view permission) but never add, change or delete: records
    kept by the system (gateway events, disputes, sync runs, won deals) and pages that are not rows (reports)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
