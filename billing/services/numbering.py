"""Document numbers: gap-free per kind, taken inside the transaction that creates the document."""

from django.db import transaction

from billing.models import DocumentSequence

DEFAULT_PREFIXES = {
    DocumentSequence.Kind.INVOICE: "INV-",
    DocumentSequence.Kind.RETAINER: "RET-",
    DocumentSequence.Kind.CREDIT_NOTE: "CN-",
    DocumentSequence.Kind.SALES_ORDER: "SO-",
    DocumentSequence.Kind.PAYMENT: "PAY-",
}


@transaction.atomic
def next_document_number(*, kind: str) -> str:
    """Take the next number of a series (INV-00042) and advance it.

    Gap-free: the sequence row stays locked until the caller's transaction ends, so a rolled-back
    document gives its number back and concurrent callers queue instead of sharing a number.
    Call it from inside the service transaction that saves the document. A missing series is
    created with the default prefix (the admin can change prefix and padding).
    """
    sequence = DocumentSequence.objects.select_for_update().filter(kind=kind).first()
    if sequence is None:
        DocumentSequence.objects.get_or_create(kind=kind, defaults={"prefix": DEFAULT_PREFIXES[kind]})
        sequence = DocumentSequence.objects.select_for_update().get(kind=kind)
    number = f"{sequence.prefix}{sequence.next_number:0{sequence.padding}d}"
    sequence.next_number += 1
    sequence.save(update_fields=["next_number"])
    return number
