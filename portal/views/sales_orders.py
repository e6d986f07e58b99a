from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from billing.models import Organisation
from portal import selectors
from portal.forms import CommentForm, ForwardForm, SalesOrderFilterForm
from portal.pdf import pdf_response, render_pdf_bytes
from portal.services import record_first_view

from .access import portal_view
from .common import account_filter_args, account_links, paginate
from .documents import comment_from_form, forward_from_form


def _require_enabled():
    if not Organisation.current().portal_shows_sales_orders:
        raise Http404("Sales orders are not shown in this portal.")


@portal_view
def salesorder_list(request):
    _require_enabled()
    scope = request.portal_scope.read()  # the account select, and the orders filtered by the ids
    tab = "all" if request.GET.get("tab") == "all" else "not_invoiced"
    form = SalesOrderFilterForm(request.GET or None, **account_filter_args(scope))
    orders = selectors.visible_sales_orders(scope=scope)
    if tab == "not_invoiced":
        orders = selectors.not_invoiced(orders)
    sort = "-ordered_on"
    if form.account_unresolved:  # a typed account name meaning none or several: nothing until one is chosen
        orders = orders.none()
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
            "account_links": account_links(request, form),
            "tab": tab,
            "show_branch": scope.has_branches,
        },
    )


def _order(request, order_id: int):
    _require_enabled()
    order = selectors.sales_order_page(scope=request.portal_scope, order_id=order_id)
    if order is None:
        raise Http404
    return order


def _detail(request, order_id, *, comment_form=None, forward_form=None, status=200):
    order = _order(request, order_id)
    if order.first_viewed_at is None:
        record_first_view(document=order, user=request.user)
    comments = list(selectors.visible_comments(scope=request.portal_scope).filter(sales_order=order))
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
    order = _order(request, order_id)
    return pdf_response("pdf/sales_order.html", {"order": order}, filename=f"{order.number}.pdf")


@portal_view
@require_POST
def salesorder_comment(request, order_id: int):
    order = _order(request, order_id)
    form, posted = comment_from_form(request, document=order)
    if posted:
        return redirect("portal:salesorder-detail", order_id=order.pk)
    return _detail(request, order_id, comment_form=form, status=400)


@portal_view
@require_POST
def salesorder_forward(request, order_id: int):
    order = _order(request, order_id)
    form, sent = forward_from_form(
        request,
        document=order,
        label="Sales order",
        render_pdf=lambda: render_pdf_bytes("pdf/sales_order.html", {"order": order}),
    )
    if sent:
        return redirect("portal:salesorder-detail", order_id=order.pk)
    return _detail(request, order_id, forward_form=form, status=400)
