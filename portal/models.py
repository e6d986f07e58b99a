"""What the portal adds to the ledger: comments, shared documents, staff notifications, logins."""

import functools
import uuid

import ua_parser
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models import ContactPerson, Customer, Invoice, SalesOrder

from .documents import document_path, document_storage


class Comment(models.Model):
    """A message on an invoice or sales order, from the customer or from staff."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="portal_comments",
        help_text=_("The document's customer: portal reads filter on it."),
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    sales_order = models.ForeignKey(
        SalesOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(_("author"), max_length=200)
    from_staff = models.BooleanField(_("from staff"), default=False)
    body = models.TextField(_("comment"), max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, sales_order__isnull=True)
                | Q(invoice__isnull=True, sales_order__isnull=False),
                name="comment_on_one_document",
            ),
        ]

    def __str__(self):
        return f"{self.author_name}: {self.body[:40]}"

    @property
    def document(self):
        return self.invoice or self.sales_order


def _document_path(instance, filename):
    # Kept for migration 0001; new files are named by documents.document_path.
    return f"shared/{instance.customer_id}/{filename}"


class SharedDocument(models.Model):
    """A file staff and the customer exchange, in the private documents storage under a random name.

    `name` is only the (sanitised) name people see; the stored name is random and its extension
    follows the type detected from the content (portal/documents.py).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shared_documents")
    file = models.FileField(_("file"), upload_to=document_path, storage=document_storage, max_length=300)
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("type"), max_length=120)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_staff = models.BooleanField(_("uploaded by staff"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.name


class StaffNotification(models.Model):
    """Something a customer did in the portal that staff should know about."""

    class Kind(models.TextChoices):
        FIRST_VIEW = "first_view", _("Viewed for the first time")
        COMMENT = "comment", _("New comment")
        FORWARD = "forward", _("Forwarded")
        WON_DEAL = "won_deal", _("Won deal invoiced")

    kind = models.CharField(_("what"), max_length=12, choices=Kind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    sales_order = models.ForeignKey(
        SalesOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    message = models.CharField(_("message"), max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.message


class ForwardedDocument(models.Model):
    """An invoice or sales order a contact emailed to an address from the portal.

    The recipient is not a contact person of the customer yet: it becomes one only when staff add it
    (admin action) or the recipient accepts the invitation in the email. Then `contact` is set.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", help_text=_("The document's customer.")
    )
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    sales_order = models.ForeignKey(SalesOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(_("sent to"))
    name = models.CharField(_("recipient's name"), max_length=200, blank=True)
    forwarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    forwarded_at = models.DateTimeField(_("sent"), auto_now_add=True, db_index=True)
    # Only a hash of the invitation's token is kept: a leaked database adds nobody as a contact.
    invitation_hash = models.CharField(max_length=64, unique=True, editable=False)
    contact = models.ForeignKey(
        ContactPerson, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("contact person"),
    )
    added_at = models.DateTimeField(_("added as contact"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("added by"), help_text=_("The staff member who added the recipient; empty if they accepted."),
    )

    class Meta:
        ordering = ["-forwarded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, sales_order__isnull=True)
                | Q(invoice__isnull=True, sales_order__isnull=False),
                name="forward_of_one_document",
            ),
        ]

    def __str__(self):
        return f"{self.document} → {self.email}"

    @property
    def document(self):
        return self.invoice or self.sales_order


class PortalLogin(models.Model):
    """One successful login, for the "recent logins" list in My account."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_logins")
    logged_in_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-logged_in_at"]

    def __str__(self):
        return f"{self.user} at {self.logged_in_at:%Y-%m-%d %H:%M}"

    @property
    def browser(self) -> str:
        """"Chrome 156 on Linux", "Mobile Safari 18 on iOS 18"; "" when the browser sent nothing."""
        return browser_label(self.user_agent)


@functools.lru_cache(maxsize=512)
def browser_label(user_agent: str) -> str:
    """A person's words for a User-Agent header, from ua-parser's maintained rules (the first call in a
    process loads them, ~0.1 s; then ~1 ms a new string, nothing for one seen before)."""
    if not user_agent.strip():
        return ""
    parsed = ua_parser.parse(user_agent)
    browser, system = parsed.user_agent, parsed.os
    if browser is None or browser.family == "Other":
        name = "Unknown browser"
    else:
        name = " ".join(part for part in (browser.family, browser.major) if part)
    if system is not None and system.family != "Other":
        name += " on " + " ".join(part for part in (system.family, system.major) if part)
    return name


def _statement_pdf_path(instance, filename):
    return f"statements/{uuid.uuid4().hex}.pdf"


class StatementPdf(models.Model):
    """A statement PDF too long to build inside a web request, built by a task and kept for a while.

    Asked for by a contact in the portal (downloadable by that contact only, while the customers are
    still visible to it) or by staff in the admin. The file is in the private documents storage under a
    random name and is deleted when the PDF expires (`expire_statement_pdfs`).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        BUILDING = "building", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    for_staff = models.BooleanField(_("asked for by staff"), default=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+",
        help_text=_("The statement's addressee: the contact's own customer, or the customer staff chose."),
    )
    branch = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text=_("Portal: the one account chosen; empty for every account the contact sees."),
    )
    with_branches = models.BooleanField(
        _("with branches"), default=False, help_text=_("Staff: the customer and the branches open to it.")
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    email_to = models.EmailField(_("email to"), blank=True, help_text=_("Sent there as an attachment when ready."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    pages_done = models.PositiveIntegerField(default=0)
    pages_total = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=_statement_pdf_path, storage=document_storage, max_length=300, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    failure = models.CharField(_("why it failed"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("asked for"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("kept until"), db_index=True)

    content_type = "application/pdf"

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("statement PDF")
        verbose_name_plural = _("statement PDFs")

    def __str__(self):
        return f"Statement {self.start:%d %b %Y} – {self.end:%d %b %Y} for {self.customer}"

    @property
    def name(self) -> str:
        """The file name it downloads under."""
        return f"Statement-{self.start:%Y%m%d}-{self.end:%Y%m%d}.pdf"

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.BUILDING)

    @property
    def progress_label(self) -> str:
        if self.status == self.Status.BUILDING and self.pages_total:
            return f"Page {self.pages_done} of {self.pages_total} prepared"
        return str(self.get_status_display())

    def progress(self) -> dict:
        """What a page waiting for it shows (static/js/statement_pdf.js polls this as JSON)."""
        return {"status": self.status, "pending": self.is_pending, "label": self.progress_label,
                "pages_done": self.pages_done, "pages_total": self.pages_total}
