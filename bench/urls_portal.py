"""Bench-only URLs, next to the real ones (never in config/urls.py).

- /bench/trivial/: a view that returns a few bytes (the server's ceiling).
- /bench/ceiling/<page>/?<query>: the real page's template rendered from rows held in memory. The first
  request in each worker runs the real view once and keeps its template and context with every query
  evaluated; later requests only render. Same middleware, session and login as the real page.
- /bench/ceiling/<page>/plus/<n>/ and /bench/ceiling/home/plus/balance-summary/: that ceiling plus n
  primary-key reads, or plus the home page's balance reads alone (floors for a page that reads things).
"""

from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path

import portal.views.home
import portal.views.invoices
import portal.views.statement
from billing.models import Organisation
from config.urls import urlpatterns as real_urlpatterns

PAGES = {
    "home": (portal.views.home, "home"),
    "invoices": (portal.views.invoices, "invoice_list"),
    "statement": (portal.views.statement, "statement_page"),
}
_captured: dict[tuple[str, str], tuple[str, dict]] = {}


def _in_memory(value):
    if isinstance(value, QuerySet):
        return list(value)
    if isinstance(value, Page):
        value.object_list = list(value.object_list)
        _ = value.paginator.count, value.paginator.num_pages
    return value


def _capture(request, name: str) -> tuple[str, dict]:
    module, view_name = PAGES[name]
    seen = {}

    def keep(request, template, context=None, *args, **kwargs):
        seen["template"], seen["context"] = template, context
        return render(request, template, context, *args, **kwargs)

    original = module.render
    module.render = keep
    try:
        getattr(module, view_name)(request)
    finally:
        module.render = original
    context = {key: _in_memory(value) for key, value in seen["context"].items()}
    context["organisation"] = Organisation.current()
    return seen["template"], context


def ceiling_plus_queries(request, name: str, queries: int):
    """The ceiling page plus `queries` primary-key lookups through the ORM (each the cheapest read a page
    can make): how much of the ceiling any page keeps once it reads that many things from the database."""
    from billing.models import Customer

    own = request.user.contact.customer_id
    for _ in range(queries):
        Customer.objects.filter(pk=own).values_list("pk", flat=True).first()
    return ceiling(request, name)


def ceiling_plus_balance_summary(request):
    """The home ceiling plus the two reads no home page at this scale can skip: the visible accounts
    (the recursive query) and their kept balances (total, count and the first page of 25). Everything
    else on the page (last payment, contacts, documents, organisation) is left out."""
    from portal.balances import balance_breakdown
    from portal.selectors import PortalScope

    balance_breakdown(customers=PortalScope(request.user).read().customers, page_number=None)
    return ceiling(request, "home")


def trivial(request):
    return HttpResponse(b"ok", content_type="text/plain")


def ceiling(request, name: str):
    if name not in PAGES:
        raise Http404
    key = (name, request.GET.urlencode())
    if key not in _captured:
        _captured[key] = _capture(request, name)
    template, context = _captured[key]
    return render(request, template, context)


urlpatterns = [
    path("bench/trivial/", trivial),
    path("bench/ceiling/<str:name>/", ceiling),
    path("bench/ceiling/<str:name>/plus/<int:queries>/", ceiling_plus_queries),
    path("bench/ceiling/home/plus/balance-summary/", ceiling_plus_balance_summary),
    *real_urlpatterns,
]
