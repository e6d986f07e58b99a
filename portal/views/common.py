from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.urls import reverse
from django.utils.functional import cached_property

PAGE_SIZE = 25
# A list longer than this says "more than 10,000" instead of counting every row: counting the 200,000
# invoices of a parent with 1,000 branches takes ~50 ms, counting to 10,001 ~3 ms. Lists up to the cap
# (8,000 unpaid invoices on that parent) still show their exact size.
COUNT_CAP = 10_000
PAYMENT_PROCESSING_REASON = (
    "A bank payment for this invoice is processing. It can be paid again only if that payment fails."
)


class CappedCountPaginator(Paginator):
    """A paginator that counts at most `cap` + 1 rows; `count_is_capped` says the list is longer than `cap`.

    A page at or past the cap (a bookmarked or typed page number) counts every row, so it is found and its
    numbers are exact, and a page number past the end still shows the last page.
    """

    def __init__(self, object_list, per_page, *, cap: int = COUNT_CAP, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self._counted_every_row = False

    @cached_property
    def count(self):
        # No ORDER BY and no annotations: the rows counted, not the rows shown.
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()

    @property
    def count_is_capped(self) -> bool:
        return not self._counted_every_row and self.count > self.cap

    def get_page(self, number):
        try:
            wanted = self.validate_number(number)
        except PageNotAnInteger:
            wanted = 1
        except EmptyPage:  # below 1 (Django shows the last page), or past the rows counted so far
            wanted = None
        if self.count_is_capped and (wanted is None or wanted >= self.num_pages):
            self._count_every_row()
        return super().get_page(number)

    def _count_every_row(self):
        self.count = self.object_list.order_by().values("pk").count()
        self._counted_every_row = True
        self.__dict__.pop("num_pages", None)


def paginate(request, queryset, per_page: int = PAGE_SIZE, *, count_cap: int | None = None):
    """A page of rows; a bad or too large page number shows the nearest page instead of an error.

    With `count_cap`, a list longer than the cap is not counted in full (`CappedCountPaginator`)."""
    if count_cap is None:
        return Paginator(queryset, per_page).get_page(request.GET.get("page"))
    return CappedCountPaginator(queryset, per_page, cap=count_cap).get_page(request.GET.get("page"))


def branches_of(customers) -> list:
    return sorted(customers, key=lambda c: c.display_name)


def account_filter_args(scope) -> dict:
    """What a form with an account filter (`portal.forms.AccountFilterForm`) needs from the request's scope:
    the visible accounts by name, and where the typed account field finds its suggestions."""
    return {"branches": branches_of(scope.rows), "suggestions_url": reverse("portal:account-suggestions")}


def account_links(request, form) -> list[tuple[str, str]]:
    """(name, URL) of each account a typed name could mean (`form.account_choices`): the same page for that
    account, from its first page."""
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
