"""Where shared documents live and how they leave: a private storage, random names, attachment-only answers.

Documents never have a public URL. The storage is the `documents` entry of settings.STORAGES: a private
directory on the local filesystem for `make run` (outside every URL the app serves) or a private
S3-compatible bucket in production (django-storages). Every download goes through a view that checked who
may see the document first (the portal's visibility selector, or staff permission in the admin) and is
streamed through it by `document_response`.
"""

import re
import unicodedata
import uuid
from pathlib import PurePosixPath

from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import FileResponse, Http404
from django.utils.functional import LazyObject, empty

# The stored extension follows the type detected from the file's content, never the name it came with.
EXTENSIONS = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/tiff": ("tif", "tiff"),
    "image/bmp": ("bmp",),
    "image/heic": ("heic",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx",),
    "application/msword": ("doc",),
    "application/vnd.ms-excel": ("xls",),
    "application/vnd.ms-powerpoint": ("ppt",),
    "application/x-ole-storage": ("doc", "xls", "ppt"),
    "application/vnd.oasis.opendocument.text": ("odt",),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods",),
    "application/vnd.oasis.opendocument.presentation": ("odp",),
}
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;]+')


class _DocumentStorage(LazyObject):
    """settings.STORAGES["documents"], looked up when first used and again after the setting changes
    (as Django's default_storage is): the model field keeps this proxy, not one storage instance."""

    def _setup(self):
        self._wrapped = storages["documents"]


_document_storage = _DocumentStorage()


@receiver(setting_changed)
def _storages_changed(*, setting, **kwargs):
    if setting == "STORAGES":
        _document_storage._wrapped = empty


def document_storage():
    """The private storage of shared documents (settings.STORAGES["documents"]); the model field's storage."""
    return _document_storage


def stored_name(content_type: str) -> str:
    """A random name whose extension is the detected type's: `documents/<uuid>.pdf`."""
    extension = EXTENSIONS.get(content_type, ("bin",))[0]
    return f"documents/{uuid.uuid4().hex}.{extension}"


def document_path(instance, filename):
    """upload_to: the name a file arrives with plays no part in where it is stored."""
    return stored_name(instance.content_type)


def display_name(original: str, content_type: str) -> str:
    """The name people see and download under: the uploaded name without paths or control and markup
    characters, its extension made to match the detected type (a PDF sent as `x.html` is `x.pdf`)."""
    name = unicodedata.normalize("NFC", str(original)).replace("\\", "/").rsplit("/", 1)[-1]
    # Format characters (right-to-left override, zero-width) would let "x\u202efdp.exe" read as "xexe.pdf".
    name = "".join(char for char in name if unicodedata.category(char) != "Cf")
    name = _UNSAFE_IN_NAME.sub("_", name).strip(" ._") or "document"
    allowed = EXTENSIONS.get(content_type, ("bin",))
    path = PurePosixPath(name)
    if path.suffix.lower().lstrip(".") not in allowed:
        name = (path.stem if path.suffix else name).strip(" ._") or "document"
        name = f"{name}.{allowed[0]}"
    if len(name) > 200:
        stem, _dot, extension = name.rpartition(".")
        name = f"{stem[: 199 - len(extension)]}.{extension}"
    return name


def document_response(document) -> FileResponse:
    """The file as a download: attachment, the detected type, no sniffing. 404 when the file is gone."""
    storage = document.file.storage
    if not document.file.name or not storage.exists(document.file.name):
        raise Http404("This file is no longer stored.")
    try:
        handle = storage.open(document.file.name, "rb")
    except OSError as exc:
        raise Http404("This file is no longer stored.") from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=display_name(document.name, document.content_type),
        content_type=document.content_type if document.content_type in EXTENSIONS else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class PrivateFileSystemStorage(FileSystemStorage):
    """Files on the local disk with no URL at all: nothing can link to them, only a view can send them."""

    def url(self, name):
        raise ValueError("Shared documents have no public URL; link to the download view instead.")
