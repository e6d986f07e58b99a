from django.http import Http404
from django.shortcuts import render

from portal import selectors
from portal.forms import PaymentFilterForm
from portal.pdf import pdf_response

from .access import portal_view
from .common import account_filter_args, account_links, paginate


@portal_view
def payment_list(request):
    scope = request.portal_scope.read()  # the account select, and the payments filtered by the ids
    form = PaymentFilterForm(request.GET or None, **account_filter_args(scope))
    payments = selectors.payments_with_kind(scope=scope)
    sort = "-paid_on"
    if form.account_unresolved:  # a typed account name meaning none or several: nothing until one is chosen
        payments = payments.none()
    if form.is_valid():
        kind = form.cleaned_data.get("kind")
        if kind == "retainer":
            payments = payments.filter(pays_retainer=True)
        elif kind == "invoice":
            payments = payments.filter(pays_retainer=False)
        if form.cleaned_data.get("branch"):
            payments = payments.filter(customer_id=form.cleaned_data["branch"])
        sort = form.cleaned_data.get("sort") or sort
    page = paginate(request, payments.order_by(sort, "-pk"))
    return render(
        request,
        "portal/payment_list.html",
        {
            "page": page,
            "form": form,
            "account_links": account_links(request, form),
            "show_branch": scope.has_branches,
        },
    )


def _payment(request, payment_id: int):
    payment = selectors.payment_receipt(scope=request.portal_scope, payment_id=payment_id)
    if payment is None:
        raise Http404
    return payment


@portal_view
def payment_detail(request, payment_id: int):
    payment = _payment(request, payment_id)
    return render(request, "portal/payment_detail.html", {"payment": payment})


@portal_view
def payment_pdf(request, payment_id: int):
    payment = _payment(request, payment_id)
    return pdf_response("pdf/receipt.html", {"payment": payment}, filename=f"Receipt-{payment.number}.pdf")
