from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from billing.selectors.statements import statement
from billing.selectors.statements import statement_page as statement_figures
from portal import selectors
from portal.forms import StatementForm
from portal.pdf import render_statement_pdf

from .access import portal_view
from .common import branches_of

LINES_PER_PAGE = 100  # the HTML statement; the PDF has every line
ACCOUNTS_PER_PAGE = 25


def _statement(request, *, selector=statement):
    customers, visible = selectors.visible_customers_listed(user=request.user)
    form = StatementForm(request.GET or {"period": "this_month"}, branches=branches_of(customers))
    result = None
    if form.is_valid():
        chosen = visible
        if form.cleaned_data.get("branch"):
            chosen = visible.filter(pk=form.cleaned_data["branch"])
        result = selector(customers=chosen, start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    return form, result, selectors.own_customer(user=request.user), customers


@portal_view
def statement_page(request):
    """The statement on screen, 100 lines a page (each page opens with the balance brought forward).

    Only the page's lines and accounts are read (`statement_page`: running balances in SQL), not the
    whole statement the PDF prints.
    """
    form, result, own, customers = _statement(request, selector=statement_figures)
    lines = accounts = None
    brought_forward = None
    if result is not None:
        lines = Paginator(result.lines, LINES_PER_PAGE).get_page(request.GET.get("page"))
        brought_forward = result.lines.brought_forward  # the balance before the page's first line
        accounts = Paginator(result.accounts, ACCOUNTS_PER_PAGE).get_page(request.GET.get("accounts"))
    return render(
        request,
        "portal/statement.html",
        {
            "form": form,
            "statement": result,
            "lines": lines,
            "brought_forward": brought_forward,
            "accounts": accounts,
            "customer": own,
            "show_branch": len(customers) > 1,
            "query": request.GET.urlencode(),
        },
        status=200 if result is not None else 400 if request.GET else 200,
    )


@portal_view
def statement_pdf(request):
    form, result, own, customers = _statement(request)
    if result is None:
        return render(
            request, "portal/statement.html", {"form": form, "statement": None, "customer": own}, status=400
        )
    name = f"Statement-{result.start:%Y%m%d}-{result.end:%Y%m%d}.pdf"
    pdf = render_statement_pdf({"statement": result, "customer": own})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
