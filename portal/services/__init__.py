"""Portal writes: first views, comments, forwarding, shared documents.

Rows billing owns (documents, contact persons) change through billing's services.

Each is one transaction; emails leave after commit. A broken rule is a ValidationError whose
message the portal shows on the form.
"""

import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta

import filetype
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage, send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Customer, Invoice, Organisation, SalesOrder
from billing.services import add_contact_person
from billing.services.invoices import stamp_first_view

from ..documents import display_name, stored_name
from ..models import Comment, ForwardedDocument, SharedDocument, StaffNotification

MAX_FILES_PER_UPLOAD = 10
MAX_FILE_BYTES = 5 * 1024 * 1024
# Checked against the file's content (magic bytes), not its name: a renamed .exe stays out.
ALLOWED_MIME_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/tiff",
    "image/bmp",
    "image/heic",
    # Office Open XML files are zip containers; filetype names them by their content.
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/x-ole-storage",  # legacy .doc/.xls/.ppt
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
ALLOWED_DESCRIPTION = (
    "PDF, images (PNG, JPEG, GIF, WebP) and office documents (Word, Excel, PowerPoint, OpenDocument)"
)


def _staff_recipients() -> list[str]:
    organisation = Organisation.current()
    emails = set(
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if organisation.email:
        emails.add(organisation.email)
    return sorted(emails)


def _person_name(user, *, as_staff: bool = False) -> str:
    """How a person is named in comments and staff notifications: its contact name, else its login's."""
    contact = getattr(user, "contact", None)
    return (contact.full_name if contact and not as_staff else "") or user.get_full_name() or user.email


def _document_kind(document) -> str:
    if isinstance(document, SalesOrder):
        return _("Sales order")
    return _("Retainer invoice") if document.is_retainer else _("Invoice")


def _document_fk(document) -> dict:
    return {"sales_order": document} if isinstance(document, SalesOrder) else {"invoice": document}


def _notify_staff(*, kind: str, document, message: str) -> StaffNotification:
    notification = StaffNotification.objects.create(
        kind=kind, customer_id=document.customer_id, message=message[:500], **_document_fk(document)
    )
    recipients = _staff_recipients()
    if recipients:
        transaction.on_commit(lambda: send_mail(message[:150], message, None, recipients))
    return notification


@transaction.atomic
def record_first_view(*, document: Invoice | SalesOrder, user) -> bool:
    """Mark an invoice or sales order as viewed by the customer, once; notify staff the first time.

    Returns True on the first view.
    """
    if not stamp_first_view(document=document):
        return False
    who = _person_name(user)
    _notify_staff(
        kind=StaffNotification.Kind.FIRST_VIEW,
        document=document,
        message=_("%(who)s of %(customer)s viewed %(kind)s %(number)s in the portal for the first time.")
        % {
            "who": who,
            "customer": document.customer.display_name,
            "kind": _document_kind(document).lower(),
            "number": document.number,
        },
    )
    return True


@transaction.atomic
def post_comment(*, document: Invoice | SalesOrder, user, body: str, from_staff: bool = False) -> Comment:
    """Add a comment to an invoice or sales order; a customer's comment notifies staff by email."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Write a comment before sending it."), code="empty_comment")
    if len(body) > 4000:
        raise ValidationError(
            _("A comment can be at most 4,000 characters; this one has %(n)d."),
            code="comment_too_long",
            params={"n": len(body)},
        )
    author_name = _person_name(user, as_staff=from_staff)
    comment = Comment.objects.create(
        customer_id=document.customer_id,
        author=user,
        author_name=author_name,
        from_staff=from_staff,
        body=body,
        **_document_fk(document),
    )
    if not from_staff:
        _notify_staff(
            kind=StaffNotification.Kind.COMMENT,
            document=document,
            message=_("%(who)s commented on %(kind)s %(number)s: %(body)s")
            % {
                "who": author_name,
                "kind": _document_kind(document).lower(),
                "number": document.number,
                "body": body,
            },
        )
    return comment


FORWARD_WINDOW_SECONDS = 60 * 60
FORWARD_INVITATION_DAYS = 30


def invitation_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _take_forward_allowance(user) -> None:
    """Count one forward against the contact's hourly allowance, or raise ValidationError(code="forward_limit").

    Counted in the cache (Redis in production), so the limit holds across web nodes. The hour starts
    with the first forward; the counter goes up atomically, so concurrent forwards cannot all slip in.
    """
    limit = settings.PORTAL_FORWARDS_PER_HOUR
    contact = getattr(user, "contact", None)
    key = f"portal:forwards:{'contact' if contact else 'user'}:{contact.pk if contact else user.pk}"
    cache.add(key, 0, timeout=FORWARD_WINDOW_SECONDS)
    try:
        used = cache.incr(key)
    except ValueError:  # the hour ended between add() and incr()
        cache.add(key, 1, timeout=FORWARD_WINDOW_SECONDS)
        used = 1
    if used > limit:
        raise ValidationError(
            _(
                "You can forward at most %(limit)d documents an hour, and you have reached that limit. "
                "Nothing was sent; please try again later, or download the PDF and send it yourself."
            ),
            code="forward_limit",
            params={"limit": limit},
        )


def forward_document(
    *, document: Invoice | SalesOrder, user, email: str, name: str, render_pdf: Callable[[], bytes], filename: str
) -> ForwardedDocument:
    """Email the document's PDF to `email` and record the forward; staff are notified.

    At most settings.PORTAL_FORWARDS_PER_HOUR forwards per contact an hour: past that, ValidationError
    (code "forward_limit") before the PDF is rendered, and nothing is sent or stored. The recipient is
    not made a contact person: the email carries an invitation link (accept_forward_invitation), and
    staff can add them from the admin (add_forward_recipients). One transaction; the emails leave after
    commit.
    """
    email = email.strip().lower()
    _take_forward_allowance(user)
    pdf = render_pdf()  # outside the transaction: rendering takes a while and needs no lock
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        forward = ForwardedDocument(
            customer_id=document.customer_id,
            email=email,
            name=name.strip()[:200],
            forwarded_by=user,
            invitation_hash=invitation_hash(token),
            **_document_fk(document),
        )
        forward.full_clean()
        forward.save()
        customer = document.customer
        organisation = Organisation.current()
        sender = _person_name(user)
        kind = _document_kind(document)
        invitation_url = settings.SITE_URL.rstrip("/") + reverse("portal:forward-invitation", args=[token])
        message = EmailMessage(
            subject=_("%(kind)s %(number)s from %(org)s")
            % {"kind": kind, "number": document.number, "org": organisation.name},
            body=_(
                "%(sender)s forwarded %(kind)s %(number)s of %(customer)s to you. The PDF is attached.\n\n"
                "Would you like to be a contact person of %(customer)s at %(org)s, and receive its documents "
                "yourself? Accept the invitation here (valid for %(days)d days):\n%(url)s\n\n"
                "If not, ignore this email: you are not added to anything.\n\n%(org)s"
            )
            % {
                "sender": sender,
                "kind": kind.lower(),
                "number": document.number,
                "customer": customer.display_name,
                "org": organisation.name,
                "days": FORWARD_INVITATION_DAYS,
                "url": invitation_url,
            },
            to=[email],
        )
        message.attach(filename, pdf, "application/pdf")
        transaction.on_commit(message.send)
        _notify_staff(
            kind=StaffNotification.Kind.FORWARD,
            document=document,
            message=_(
                "%(who)s forwarded %(kind)s %(number)s of %(customer)s to %(email)s. They are not a contact "
                "person unless they accept the invitation or staff add them (Forwarded documents)."
            )
            % {
                "who": sender,
                "kind": kind.lower(),
                "number": document.number,
                "email": email,
                "customer": customer.display_name,
            },
        )
    return forward


def pending_forward_invitation(*, token: str) -> ForwardedDocument | None:
    """The forward whose invitation `token` names, if it is still open (not accepted, not expired)."""
    since = timezone.now() - timedelta(days=FORWARD_INVITATION_DAYS)
    return (
        ForwardedDocument.objects.select_related("customer")
        .filter(invitation_hash=invitation_hash(token), contact__isnull=True, forwarded_at__gte=since)
        .first()
    )


@transaction.atomic
def accept_forward_invitation(*, token: str) -> ForwardedDocument:
    """The recipient of a forward accepts its invitation: its address becomes a contact person of the customer.

    The contact has no portal login (staff grant that). An address already a contact is reused.
    Raises ValidationError(code="invitation_invalid") for an unknown, used or expired invitation.
    """
    forward = pending_forward_invitation(token=token)
    if forward is not None:
        forward = ForwardedDocument.objects.select_for_update().filter(pk=forward.pk, contact__isnull=True).first()
    if forward is None:
        raise ValidationError(
            _("This invitation is no longer valid: it was used already or has expired."), code="invitation_invalid"
        )
    _add_recipient(forward, added_by=None)
    return forward


@transaction.atomic
def add_forward_recipients(*, forwards: QuerySet[ForwardedDocument], staff_user) -> list[ForwardedDocument]:
    """Staff confirm forwarded addresses: each becomes a contact person of its forward's customer.

    Forwards already added are skipped. All or nothing: an address the contact model refuses raises
    ValidationError and nobody is added.
    """
    added = []
    # A fresh query: the admin's queryset joins the customer and the document, which FOR UPDATE refuses.
    pending = ForwardedDocument.objects.filter(pk__in=forwards.values("pk"), contact__isnull=True)
    done = set()
    for forward in pending.select_for_update().order_by("pk"):
        if (forward.customer_id, forward.email) in done:
            continue  # _add_recipient already answered this forward with the same contact
        _add_recipient(forward, added_by=staff_user)
        done.add((forward.customer_id, forward.email))
        added.append(forward)
    return added


def _add_recipient(forward: ForwardedDocument, *, added_by) -> None:
    forward.contact = add_contact_person(customer=forward.customer, email=forward.email, name=forward.name)
    forward.added_at, forward.added_by = timezone.now(), added_by
    forward.save(update_fields=["contact", "added_at", "added_by"])
    # Other forwards to the same address of the same customer are answered by this contact too.
    ForwardedDocument.objects.filter(
        customer_id=forward.customer_id, email=forward.email, contact__isnull=True
    ).update(contact=forward.contact, added_at=forward.added_at, added_by=added_by)


def check_uploads(files: Sequence[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    """The files with their detected type, or ValidationError naming every file that is refused."""
    if not files:
        raise ValidationError(_("Choose at least one file to upload."), code="no_files")
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise ValidationError(
            _("Upload at most %(max)d files at a time; you chose %(n)d."),
            code="too_many_files",
            params={"max": MAX_FILES_PER_UPLOAD, "n": len(files)},
        )
    problems, checked = [], []
    for upload in files:
        if upload.size > MAX_FILE_BYTES:
            problems.append(
                ValidationError(
                    _("%(name)s is %(size).1f MB; the limit is 5 MB per file."),
                    code="file_too_large",
                    params={"name": upload.name, "size": upload.size / 1024 / 1024},
                )
            )
            continue
        upload.seek(0)
        kind = filetype.guess(upload.read(8192))
        upload.seek(0)
        if kind is None or kind.mime not in ALLOWED_MIME_TYPES:
            problems.append(
                ValidationError(
                    _("%(name)s is not an allowed type. Allowed: %(allowed)s."),
                    code="file_type_not_allowed",
                    params={"name": upload.name, "allowed": ALLOWED_DESCRIPTION},
                )
            )
            continue
        checked.append((upload, kind.mime))
    if problems:
        raise ValidationError(problems)
    return checked


@transaction.atomic
def upload_documents(
    *, customer: Customer, user, files: Sequence[UploadedFile], from_staff: bool = False
) -> list[SharedDocument]:
    """Store files shared with a customer, all or none: one bad file refuses the whole upload.

    Each file goes to the private documents storage under a random name whose extension is the type
    detected from its content; the name it came with is kept only as a sanitised display name.
    """
    checked = check_uploads(files)
    documents = []
    try:
        for upload, mime in checked:
            document = SharedDocument(
                customer=customer,
                name=display_name(upload.name, mime),
                size=upload.size,
                content_type=mime,
                uploaded_by=user,
                from_staff=from_staff,
            )
            # Stored under a random name with the detected type's extension (documents.document_path).
            document.file.save(stored_name(mime), upload, save=False)
            documents.append(document)
        return SharedDocument.objects.bulk_create(documents)
    except Exception:
        # Storage is not transactional: a failed upload must not leave files behind.
        for document in documents:
            document.file.delete(save=False)
        raise


