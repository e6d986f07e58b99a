"""Back office views of what customers do in the portal: comments (staff reply), documents, notifications."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .documents import display_name, document_response
from .models import Comment, ForwardedDocument, PortalLogin, SharedDocument, StaffNotification
from .services import add_forward_recipients, check_uploads


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Staff read customers' comments here and reply by adding a comment (marked as from staff)."""

    list_display = ("created_at", "customer", "invoice", "sales_order", "author_name", "from_staff", "body")
    list_filter = ("from_staff",)
    search_fields = (
        "body",
        "author_name",
        "customer__display_name",
        "invoice__number",
        "sales_order__number",
    )
    list_select_related = ("customer", "invoice", "sales_order")
    autocomplete_fields = ("customer",)
    raw_id_fields = ("invoice", "sales_order")
    readonly_fields = ("author", "author_name", "from_staff", "created_at")
    fields = (
        "customer",
        "invoice",
        "sales_order",
        "body",
        "author",
        "author_name",
        "from_staff",
        "created_at",
    )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
            obj.author_name = request.user.get_full_name() or request.user.email or request.user.username
            obj.from_staff = True
            document = obj.invoice or obj.sales_order
            if document is not None:
                obj.customer_id = document.customer_id
        super().save_model(request, obj, form, change)


@admin.register(SharedDocument)
class SharedDocumentAdmin(admin.ModelAdmin):
    """Staff see and add shared documents; a file leaves only through `download_view`, never a storage URL."""

    list_display = ("name", "customer", "content_type", "size", "from_staff", "created_at", "download_link")
    list_filter = ("from_staff", "content_type")
    search_fields = ("name", "customer__display_name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    readonly_fields = ("name", "size", "content_type", "uploaded_by", "from_staff", "created_at", "download_link")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("customer", "file")
        # The stored file is not a link to the storage: it is downloaded through the checked view.
        return ("customer", "download_link", "name", "size", "content_type", "uploaded_by", "from_staff",
                "created_at")

    def get_urls(self):
        download = path(
            "<int:object_id>/download/",
            self.admin_site.admin_view(self.download_view),
            name="portal_shareddocument_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request, object_id: int):
        """The file as an attachment for staff allowed to view shared documents (admin_view: staff only)."""
        document = self.get_object(request, str(object_id))
        if document is None:
            raise Http404
        if not self.has_view_permission(request, document):
            raise PermissionDenied
        return document_response(document)

    @admin.display(description=_("file"))
    def download_link(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        url = reverse("admin:portal_shareddocument_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("file")
        if not change and upload is not None:
            ((_checked, mime),) = check_uploads([upload])
            obj.name, obj.size, obj.content_type = display_name(upload.name, mime), upload.size, mime
            obj.uploaded_by, obj.from_staff = request.user, True
        super().save_model(request, obj, form, change)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class CheckedForm(form):
            def clean_file(self):
                upload = self.cleaned_data.get("file")
                if upload is not None and hasattr(upload, "content_type"):
                    check_uploads([upload])
                return upload

        return CheckedForm


@admin.register(StaffNotification)
class StaffNotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "customer", "message", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("message", "customer__display_name")
    list_select_related = ("customer",)
    readonly_fields = ("kind", "customer", "invoice", "sales_order", "message", "created_at", "read_at")
    actions = ("mark_read",)

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Mark selected notifications as read"))
    def mark_read(self, request, queryset):
        count = queryset.filter(read_at__isnull=True).update(read_at=timezone.now())
        self.message_user(request, _("%(count)d notification(s) marked as read.") % {"count": count})


@admin.register(PortalLogin)
class PortalLoginAdmin(admin.ModelAdmin):
    list_display = ("logged_in_at", "user", "ip_address", "browser")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    readonly_fields = ("user", "logged_in_at", "ip_address", "user_agent")

    def has_add_permission(self, request):
        return False


@admin.register(ForwardedDocument)
class ForwardedDocumentAdmin(admin.ModelAdmin):
    """Documents customers forwarded from the portal; staff add a recipient as a contact person from here."""

    list_display = ("forwarded_at", "email", "name", "customer", "invoice", "sales_order", "forwarded_by", "contact",
                    "added_at")
    list_filter = (("contact", admin.EmptyFieldListFilter), "forwarded_at")
    search_fields = ("email", "name", "customer__display_name", "invoice__number", "sales_order__number")
    list_select_related = ("customer", "invoice", "sales_order", "forwarded_by", "contact")
    readonly_fields = ("customer", "invoice", "sales_order", "email", "name", "forwarded_by", "forwarded_at",
                       "contact", "added_at", "added_by")
    exclude = ("invitation_hash",)
    actions = ("add_as_contact_person",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_contact_permission(self, request):
        return request.user.has_perm("billing.add_contactperson")

    @admin.action(description=_("Add as contact person"), permissions=["add_contact"])
    def add_as_contact_person(self, request, queryset):
        try:
            added = add_forward_recipients(forwards=queryset, staff_user=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(
                request, _("%(count)d recipient(s) added as contact persons.") % {"count": len(added)}
            )
