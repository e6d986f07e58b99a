from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing.selectors.statements import account_columns, statement, statement_customers
from billing.selectors.statements import statement_page as statement_figures
from portal import selectors
from portal.documents import document_response
from portal.forms import StatementForm, StatementPdfForm, accounts_matching
from portal.pdf import render_statement_pdf
from portal.services.statements import request_statement_pdf

from .access import portal_view
from .common import account_links

LINES_PER_PAGE = 50  # the HTML statement (a page of rows costs its rendering); the PDF has every line
ACCOUNTS_PER_PAGE = 25


def _statement(request, *, selector=statement, form_class=StatementForm, data=None):
    # The visible customers with what the statement shows of them, read once (one query, plain rows): the
    # account field lists or looks them up and the statement selectors take them as they are.
    customers = statement_customers(request.portal_scope.customers)
    data = request.GET if data is None else data
    form = form_class(data or {"period": "this_month"}, branches=customers,
                      suggestions_url=reverse("portal:account-suggestions"))
    result = chosen = None
    if form.is_valid():
        chosen = customers
        if form.cleaned_data.get("branch"):
            chosen = statement_customers(c for c in customers if c.pk == form.cleaned_data["branch"])
        result = selector(customers=chosen, start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    return form, result, request.portal_scope.own, customers, chosen


def _account_columns(totals) -> list[tuple[str, str, bool]]:
    """The per-account table's columns (`account_columns`, the PDF's too), as (heading, `AccountSubtotals`
    field, is a credit)."""
    return [(column.heading, column.fields[0], column.is_credit) for column in account_columns(totals)]


def _amounts(subtotals, columns) -> list[tuple[str, object, bool]]:
    return [(heading, getattr(subtotals, name), credit) for heading, name, credit in columns]


@portal_view
def statement_page(request):
    """The statement on screen, 50 lines a page (each page opens with the balance brought forward).

    Only the page's lines and accounts are read (`statement_page`: running balances in SQL), not the
    whole statement the PDF prints.
    """
    def figures(*, customers, start, end):
        # the page of accounts shown, read with the statement's figures (one query for both)
        shown = Paginator(range(len(customers)), ACCOUNTS_PER_PAGE).get_page(request.GET.get("accounts"))
        return statement_figures(customers=customers, start=start, end=end,
                                 accounts=slice(shown.start_index() - 1, shown.end_index()))

    form, result, own, customers, _chosen = _statement(request, selector=figures)
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
            "account_links": account_links(request, form),
        },
        status=200 if result is not None else 400 if request.GET else 200,
    )


@portal_view
def account_suggestions(request):
    """The names of the visible accounts that match what the contact typed in an account field (the
    statement's, the lists' filters: `portal.forms.AccountFilterForm`), at most 20 by name, as JSON for the
    field's suggestions."""
    customers = statement_customers(request.portal_scope.customers)
    names = [c.display_name for c in accounts_matching(customers, request.GET.get("q", "")[:200])[:20]]
    return JsonResponse({"accounts": names})


@portal_view
def statement_pdf(request):
    """The statement as a PDF. Up to STATEMENT_PDF_INLINE_MAX_LINES lines it is rendered in this request
    (a few pages, in this process: the web process never forks). A longer one, or one the contact asks to
    have emailed, is built by a task: a POST asks for it and leads to its status page; a GET (a link, a
    bookmark) only shows the page to ask for it, since a GET never starts work."""
    data = request.POST if request.method == "POST" else request.GET
    form, figures, own, customers, chosen = _statement(
        request, selector=statement_figures, form_class=StatementPdfForm, data=data
    )
    if figures is None:
        return render(request, "portal/statement.html", {"form": form, "statement": None, "customer": own},
                      status=400)
    email = form.cleaned_data.get("email_me", False)
    if figures.line_count <= settings.STATEMENT_PDF_INLINE_MAX_LINES and not email:
        result = statement(customers=chosen, start=figures.start, end=figures.end)
        response = HttpResponse(render_statement_pdf({"statement": result, "customer": own}),
                                content_type="application/pdf")
        name = f"Statement-{result.start:%Y%m%d}-{result.end:%Y%m%d}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    context = {"form": form, "figures": figures, "customer": own, "email": email}
    if request.method != "POST":
        return render(request, "portal/statement_pdf_request.html", context)
    branch_id = form.cleaned_data.get("branch")
    try:
        statement_pdf = request_statement_pdf(
            user=request.user,
            customer=own,
            # the account chosen, among the visible ones (read as a customer row only here)
            branch=request.portal_scope.customers.get(pk=branch_id) if branch_id else None,
            start=figures.start,
            end=figures.end,
            line_count=figures.line_count,
            email=email,
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return render(request, "portal/statement_pdf_request.html", context, status=400)
    return redirect("portal:statement-pdf-status", pdf_id=statement_pdf.pk)


def _visible_pdf(request, pdf_id: int):
    # The contact's own requests, through the portal's one visibility selector: anyone else's is a 404.
    return get_object_or_404(
        selectors.visible_statement_pdfs(scope=request.portal_scope).select_related("customer", "branch"),
        pk=pdf_id, expires_at__gt=timezone.now(),
    )


@portal_view
@require_GET
def statement_pdf_status(request, pdf_id: int):
    """Where a statement PDF being built stands: waiting, being prepared (pages so far), ready to
    download, or failed. While pending, static/js/statement_pdf.js polls `statement_pdf_progress`."""
    statement_pdf = _visible_pdf(request, pdf_id)
    return render(request, "portal/statement_pdf.html", {"statement_pdf": statement_pdf})


@portal_view
@require_GET
def statement_pdf_progress(request, pdf_id: int):
    statement_pdf = _visible_pdf(request, pdf_id)
    return JsonResponse(statement_pdf.progress())


@portal_view
@require_GET
def statement_pdf_download(request, pdf_id: int):
    statement_pdf = _visible_pdf(request, pdf_id)
    if statement_pdf.status != statement_pdf.Status.READY:
        return redirect("portal:statement-pdf-status", pdf_id=statement_pdf.pk)
    return document_response(statement_pdf)
