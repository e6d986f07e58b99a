from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from billing.models import Invoice
from portal import selectors
from portal.forms import CommentForm, ForwardForm, InvoiceFilterForm
from portal.pdf import pdf_response, render_pdf_bytes
from portal.services import record_first_view

from .access import portal_view
from .common import COUNT_CAP, PAYMENT_PROCESSING_REASON, account_filter_args, account_links, paginate
from .documents import comment_from_form, forward_from_form


def filter_invoices(queryset, form, *, tab: str):
    today = timezone.localdate()
    if form.account_unresolved:  # a typed account name meaning none or several: nothing until one is chosen
        return queryset.none()
    if tab == "outstanding":
        queryset = queryset.overdue(today)
    if form.is_valid():
        data = form.cleaned_data
        status = data.get("status")
        if status == "unpaid":
            queryset = queryset.open()
        elif status == "overdue":
            queryset = queryset.overdue(today)
        elif status:
            queryset = queryset.filter(status=status)
        if data.get("branch"):
            queryset = queryset.filter(customer_id=data["branch"])
        if data.get("date_from"):
            queryset = queryset.filter(issued_on__gte=data["date_from"])
        if data.get("date_to"):
            queryset = queryset.filter(issued_on__lte=data["date_to"])
    sort = form.cleaned_data.get("sort") if form.is_valid() else ""
    return queryset.order_by(sort or ("due_on" if tab == "outstanding" else "-issued_on"), "-pk")


# What invoice_list.html shows of an invoice (is_open and is_overdue read status, balance_due and due_on):
# not the notes, terms and timestamps of 25 rows. A column the template starts using must be added here,
# or each row loads it with one more query (tests/portal/test_query_counts.py catches that).
LIST_COLUMNS = (
    "customer_id",
    "number",
    "is_retainer",
    "status",
    "currency",
    "issued_on",
    "due_on",
    "total",
    "balance_due",
)


def _list(request, *, retainers: bool):
    # The visible customers are read once, as (pk, name) rows: they fill the account select, name each
    # row's account and filter the invoices, so no Customer objects and no join to billing_customer.
    scope = request.portal_scope.read()
    tab = request.GET.get("tab") if request.GET.get("tab") in ("outstanding", "all") else "all"
    form = InvoiceFilterForm(request.GET or None, **account_filter_args(scope))
    invoices = selectors.with_payment_processing(
        selectors.sent_invoices(scope=scope, retainers=retainers).only(*LIST_COLUMNS)
    )
    page = paginate(request, filter_invoices(invoices, form, tab=tab), count_cap=COUNT_CAP)
    page.object_list = list(page.object_list)
    names = scope.names
    for invoice in page.object_list:
        invoice.customer_name = names[invoice.customer_id]
    return render(
        request,
        "portal/invoice_list.html",
        {
            "page": page,
            "form": form,
            "account_links": account_links(request, form),
            "tab": tab,
            "retainers": retainers,
            "show_branch": scope.has_branches,
            # "Pay selected" only when a row can be ticked: not for invoices whose bank payment is processing.
            "payable_rows": any(inv.is_open and not inv.payment_processing for inv in page.object_list),
            "today": timezone.localdate(),
        },
    )


@portal_view
def invoice_list(request):
    return _list(request, retainers=False)


@portal_view
def retainer_list(request):
    return _list(request, retainers=True)


def _invoice_for_page(request, invoice_id: int, *, retainers: bool) -> Invoice:
    invoice = selectors.invoice_page(scope=request.portal_scope, invoice_id=invoice_id, retainers=retainers)
    if invoice is None:
        raise Http404
    return invoice


def _detail(request, invoice_id: int, *, retainers: bool, comment_form=None, forward_form=None, status=200):
    invoice = _invoice_for_page(request, invoice_id, retainers=retainers)
    if invoice.first_viewed_at is None:
        record_first_view(document=invoice, user=request.user)
    comments = list(selectors.visible_comments(scope=request.portal_scope).filter(invoice=invoice))
    return render(
        request,
        "portal/invoice_detail.html",
        {
            "invoice": invoice,
            "retainers": retainers,
            "comments": comments,
            "comment_form": comment_form or CommentForm(),
            "forward_form": forward_form or ForwardForm(),
            "pay_url": None if invoice.payment_processing else reverse("portal:pay-invoice", args=[invoice.pk]),
            "pay_disabled_reason": PAYMENT_PROCESSING_REASON,
        },
        status=status,
    )


@portal_view
def invoice_detail(request, invoice_id: int):
    return _detail(request, invoice_id, retainers=False)


@portal_view
def retainer_detail(request, invoice_id: int):
    return _detail(request, invoice_id, retainers=True)


def invoice_pdf_context(invoice: Invoice) -> dict:
    return {"invoice": invoice, "title": "Retainer invoice" if invoice.is_retainer else "Invoice"}


@portal_view
def invoice_pdf(request, invoice_id: int):
    invoice = _invoice_for_page(request, invoice_id, retainers=False)
    return pdf_response("pdf/invoice.html", invoice_pdf_context(invoice), filename=f"{invoice.number}.pdf")


@portal_view
def retainer_pdf(request, invoice_id: int):
    invoice = _invoice_for_page(request, invoice_id, retainers=True)
    return pdf_response("pdf/invoice.html", invoice_pdf_context(invoice), filename=f"{invoice.number}.pdf")


@portal_view
@require_POST
def invoice_comment(request, invoice_id: int):
    invoice = _invoice_for_page(request, invoice_id, retainers=False)
    form, posted = comment_from_form(request, document=invoice)
    if posted:
        return redirect("portal:invoice-detail", invoice_id=invoice.pk)
    return _detail(request, invoice_id, retainers=False, comment_form=form, status=400)


@portal_view
@require_POST
def invoice_forward(request, invoice_id: int):
    invoice = _invoice_for_page(request, invoice_id, retainers=False)
    form, sent = forward_from_form(
        request,
        document=invoice,
        label="Invoice",
        render_pdf=lambda: render_pdf_bytes("pdf/invoice.html", invoice_pdf_context(invoice)),
    )
    if sent:
        return redirect("portal:invoice-detail", invoice_id=invoice.pk)
    return _detail(request, invoice_id, retainers=False, forward_form=form, status=400)
