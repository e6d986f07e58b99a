from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from billing.models import Organisation, SalesOrder
from portal import selectors
from portal.forms import CommentForm, ForwardForm, SalesOrderFilterForm
from portal.pdf import pdf_response, render_pdf_bytes
from portal.services import record_first_view

from .access import portal_view
from .common import branches_of, paginate
from .documents import comment_from_form, forward_from_form


def _require_enabled():
    if not Organisation.current().portal_shows_sales_orders:
        raise Http404("Sales orders are not shown in this portal.")


@portal_view
def salesorder_list(request):
    _require_enabled()
    customers = list(selectors.visible_customers(user=request.user))
    tab = "all" if request.GET.get("tab") == "all" else "not_invoiced"
    form = SalesOrderFilterForm(request.GET or None, branches=branches_of(customers))
    orders = selectors.visible_sales_orders(user=request.user).select_related("customer")
    if tab == "not_invoiced":
        orders = orders.exclude(invoiced_status=SalesOrder.InvoicedStatus.INVOICED).exclude(
            status=SalesOrder.Status.VOID
        )
    sort = "-ordered_on"
    if form.is_valid():
        data = form.cleaned_data
        if data.get("status"):
            orders = orders.filter(invoiced_status=data["status"])
        if data.get("branch"):
            orders = orders.filter(customer_id=data["branch"])
        if data.get("date_from"):
            orders = orders.filter(ordered_on__gte=data["date_from"])
        if data.get("date_to"):
            orders = orders.filter(ordered_on__lte=data["date_to"])
        sort = data.get("sort") or sort
    page = paginate(request, orders.order_by(sort, "-pk"))
    return render(
        request,
        "portal/salesorder_list.html",
        {
            "page": page,
            "form": form,
            "tab": tab,
            "show_branch": len(customers) > 1,
        },
    )


def _order(user, order_id: int) -> SalesOrder:
    _require_enabled()
    return get_object_or_404(
        selectors.visible_sales_orders(user=user)
        .select_related("customer")
        .prefetch_related("lines", "invoices"),
        pk=order_id,
    )


def _detail(request, order_id, *, comment_form=None, forward_form=None, status=200):
    order = _order(request.user, order_id)
    if order.first_viewed_at is None:
        record_first_view(document=order, user=request.user)
    comments = list(selectors.visible_comments(user=request.user).filter(sales_order=order))
    return render(
        request,
        "portal/salesorder_detail.html",
        {
            "order": order,
            "comments": comments,
            "comment_form": comment_form or CommentForm(),
            "forward_form": forward_form or ForwardForm(),
        },
        status=status,
    )


@portal_view
def salesorder_detail(request, order_id: int):
    return _detail(request, order_id)


@portal_view
def salesorder_pdf(request, order_id: int):
    order = _order(request.user, order_id)
    return pdf_response("pdf/sales_order.html", {"order": order}, filename=f"{order.number}.pdf")


@portal_view
@require_POST
def salesorder_comment(request, order_id: int):
    order = _order(request.user, order_id)
    form, posted = comment_from_form(request, document=order)
    if posted:
        return redirect("portal:salesorder-detail", order_id=order.pk)
    return _detail(request, order_id, comment_form=form, status=400)


@portal_view
@require_POST
def salesorder_forward(request, order_id: int):
    order = _order(request.user, order_id)
    form, sent = forward_from_form(
        request,
        document=order,
        label="Sales order",
        render_pdf=lambda: render_pdf_bytes("pdf/sales_order.html", {"order": order}),
    )
    if sent:
        return redirect("portal:salesorder-detail", order_id=order.pk)
    return _detail(request, order_id, forward_form=form, status=400)
