from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from billing.selectors.statements import LineKind, statement, statement_customers
from billing.selectors.statements import statement_page as statement_figures
from portal import selectors
from portal.forms import StatementForm, accounts_matching
from portal.pdf import render_statement_pdf

from .access import portal_view
from .common import branches_of

LINES_PER_PAGE = 50  # the HTML statement (a page of rows costs its rendering); the PDF has every line
ACCOUNTS_PER_PAGE = 25


def _statement(request, *, selector=statement):
    # The visible customers with what the statement shows of them, read once (one query, plain rows): the
    # account select lists them and the statement selectors take them as they are.
    customers = statement_customers(selectors.visible_customers(user=request.user))
    form = StatementForm(request.GET or {"period": "this_month"}, branches=branches_of(customers),
                         suggestions_url=reverse("portal:statement-accounts"))
    result = None
    if form.is_valid():
        chosen = customers
        if form.cleaned_data.get("branch"):
            chosen = statement_customers(c for c in customers if c.pk == form.cleaned_data["branch"])
        result = selector(customers=chosen, start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    return form, result, selectors.own_customer(user=request.user), customers


def _account_columns(totals) -> list[tuple[str, str, bool]]:
    """The per-account table's columns, as (heading, `AccountSubtotals` field, is a credit): each kind of
    movement the period has (amounts are never negative, so a zero total means a column of zeros)."""
    return [
        (LineKind.HEADINGS[kind], LineKind.SUBTOTALS[kind], kind not in LineKind.DEBITS)
        for kind in LineKind.COLUMNS
        if getattr(totals, LineKind.SUBTOTALS[kind])
    ]


def _amounts(subtotals, columns) -> list[tuple[str, object, bool]]:
    return [(heading, getattr(subtotals, name), credit) for heading, name, credit in columns]


@portal_view
def statement_page(request):
    """The statement on screen, 50 lines a page (each page opens with the balance brought forward).

    Only the page's lines and accounts are read (`statement_page`: running balances in SQL), not the
    whole statement the PDF prints.
    """
    form, result, own, customers = _statement(request, selector=statement_figures)
    lines = accounts = brought_forward = None
    columns = account_rows = account_totals = ()
    if result is not None:
        lines = Paginator(result.lines, LINES_PER_PAGE).get_page(request.GET.get("page"))
        brought_forward = result.lines.brought_forward  # the balance before the page's first line
        if result.is_consolidated:
            accounts = Paginator(result.accounts, ACCOUNTS_PER_PAGE).get_page(request.GET.get("accounts"))
            columns = _account_columns(result.totals)
            account_rows = [(a, _amounts(a, columns)) for a in accounts.object_list]
            account_totals = _amounts(result.totals, columns)
    return render(
        request,
        "portal/statement.html",
        {
            "form": form,
            "statement": result,
            "lines": lines,
            "brought_forward": brought_forward,
            "accounts": accounts,
            "account_columns": columns,
            "account_rows": account_rows,
            "account_totals": account_totals,
            "customer": own,
            "show_branch": len(customers) > 1,
            "query": request.GET.urlencode(),
            "account_links": _account_links(request, form),
        },
        status=200 if result is not None else 400 if request.GET else 200,
    )


def _account_links(request, form) -> list[tuple[str, str]]:
    """(name, URL) of each account a typed name could mean: the same statement for that account."""
    if not form.account_choices:
        return []
    query = request.GET.copy()
    for name in ("account", "branch", "page", "accounts"):
        query.pop(name, None)
    links = []
    for customer in form.account_choices:
        query["branch"] = str(customer.pk)
        links.append((customer.display_name, f"?{query.urlencode()}"))
    return links


@portal_view
def statement_accounts(request):
    """The names of the visible accounts that match what the contact typed in the statement's account field
    (at most 20, in statement order), as JSON for the field's suggestions."""
    customers = statement_customers(selectors.visible_customers(user=request.user))
    names = [c.display_name for c in accounts_matching(customers, request.GET.get("q", "")[:200])[:20]]
    return JsonResponse({"accounts": names})


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
