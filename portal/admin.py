"""Back office views of what customers do in the portal: comments (staff reply), documents, notifications."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.models import Customer
from billing.selectors import customers_under, statement
from billing.selectors.statements import statement_page

from .documents import display_name, document_response
from .forms import StaffStatementPdfForm
from .models import Comment, ForwardedDocument, PortalLogin, SharedDocument, StaffNotification, StatementPdf
from .pdf import render_statement_pdf
from .services import add_forward_recipients, check_uploads
from .services.statements import request_statement_pdf


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


@admin.register(StatementPdf)
class StatementPdfAdmin(admin.ModelAdmin):
    """Statement PDFs built in the background, for staff (asked for from a customer's statement page in the
    admin) and for contacts (listed here, so staff see what is being built). A file leaves only through
    `download_view`, for the staff PDFs; a contact's PDF is the contact's."""

    list_display = ("created_at", "customer", "period", "status", "line_count", "requested_by", "for_staff",
                    "download_link")
    list_filter = ("status", "for_staff")
    search_fields = ("customer__display_name", "requested_by__email")
    list_select_related = ("customer", "requested_by")
    fields = ("customer", "period", "with_branches", "branch", "requested_by", "for_staff", "progress",
              "line_count", "size", "email_to", "failure", "created_at", "finished_at", "expires_at",
              "download_link")
    readonly_fields = fields

    class Media:
        js = ("js/statement_pdf.js",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("request/", self.admin_site.admin_view(self.request_view), name="portal_statementpdf_request"),
            path("<int:object_id>/progress/", self.admin_site.admin_view(self.progress_view),
                 name="portal_statementpdf_progress"),
            path("<int:object_id>/download/", self.admin_site.admin_view(self.download_view),
                 name="portal_statementpdf_download"),
            *super().get_urls(),
        ]

    @admin.display(description=_("period"))
    def period(self, obj):
        return f"{date_format(obj.start, 'j M Y')} – {date_format(obj.end, 'j M Y')}"

    @admin.display(description=_("progress"))
    def progress(self, obj):
        url = reverse("admin:portal_statementpdf_progress", args=[obj.pk])
        return format_html('<div data-statement-pdf-status data-url="{}" data-pending="{}">'
                           '<span data-progress-text>{}</span> <progress max="{}" value="{}"></progress></div>',
                           url, "true" if obj.is_pending else "false", obj.progress_label, obj.pages_total or 1,
                           obj.pages_done)

    @admin.display(description=_("file"))
    def download_link(self, obj):
        if obj is None or not obj.for_staff or obj.status != obj.Status.READY:
            return "-"
        url = reverse("admin:portal_statementpdf_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    def request_view(self, request):
        """POST from the admin's statement page (templates/admin/billing/ledger/statement.html): a short
        statement comes back as a PDF at once; a long one, or one to email, is built by a task and this
        leads to its page here."""
        if request.method != "POST":
            raise Http404
        if not request.user.has_perm("portal.add_statementpdf"):
            raise PermissionDenied
        form = StaffStatementPdfForm(request.POST)
        valid = form.is_valid()
        if "customer" not in form.cleaned_data:
            raise Http404
        customer = get_object_or_404(Customer, pk=form.cleaned_data["customer"])
        back = reverse("admin:billing_customer_statement", args=[customer.pk])
        if not valid:
            self.message_user(request, " ".join(m for errors in form.errors.values() for m in errors),
                              messages.ERROR)
            return redirect(back)
        data = form.cleaned_data
        customers = (customers_under(customer_id=customer.pk) if data["branches"]
                     else Customer.objects.filter(pk=customer.pk))
        figures = statement_page(customers=customers, start=data["start"], end=data["end"])
        if figures.line_count <= settings.STATEMENT_PDF_INLINE_MAX_LINES and not data["email_me"]:
            result = statement(customers=customers, start=data["start"], end=data["end"])
            response = HttpResponse(render_statement_pdf({"statement": result, "customer": customer}),
                                    content_type="application/pdf")
            response["Content-Disposition"] = (
                f'attachment; filename="Statement-{data["start"]:%Y%m%d}-{data["end"]:%Y%m%d}.pdf"')
            return response
        try:
            statement_pdf = request_statement_pdf(
                user=request.user, customer=customer, start=data["start"], end=data["end"],
                line_count=figures.line_count, with_branches=data["branches"], for_staff=True,
                email=data["email_me"],
            )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return redirect(back)
        self.message_user(request, _("The statement has %(lines)d lines: it is being prepared below.")
                          % {"lines": figures.line_count})
        return redirect("admin:portal_statementpdf_change", statement_pdf.pk)

    def progress_view(self, request, object_id: int):
        statement_pdf = self.get_object(request, str(object_id))
        if statement_pdf is None:
            raise Http404
        if not self.has_view_permission(request, statement_pdf):
            raise PermissionDenied
        return JsonResponse(statement_pdf.progress())

    def download_view(self, request, object_id: int):
        """The PDF as an attachment, for staff allowed to view statement PDFs; only PDFs staff asked for."""
        statement_pdf = self.get_object(request, str(object_id))
        if statement_pdf is None or not statement_pdf.for_staff or statement_pdf.status != statement_pdf.Status.READY:
            raise Http404
        if not self.has_view_permission(request, statement_pdf):
            raise PermissionDenied
        return document_response(statement_pdf)
