"""The back office's search box, served by indexes at 200,000 invoices.

Django's own search ORs `icontains` over `search_fields`, following `customer__display_name` through a join:
PostgreSQL then reads every invoice (678 ms for "INV" at 1,000 branches × 200 invoices). Here:

1. A term that can be a document number (one word with a digit, e.g. "inv-000123") is first looked up
   exactly through the number's unique index, as typed and upper-cased; when that finds rows, they are the
   answer.
2. Otherwise each word must match one of the model's own text columns (`icontains`, which PostgreSQL serves
   with the trigram indexes of migration 0018 on UPPER(column)) or a related row found the same way: the
   customers whose name matches are read first (their trigram index), then the documents by `customer_id`
   (its B-tree index). A join or an `IN (subquery)` inside the OR would make PostgreSQL read the whole table.

The fields searched are declared per admin (`IndexedSearchMixin`); `search_fields` stays as Django's, for
the search box and for the admin checks.
"""

import re
from dataclasses import dataclass

from django.contrib.admin.views.main import SEARCH_VAR
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.utils.text import smart_split, unescape_string_literal

# A search that finds at most this many rows has their ids read first and its page sorted from them.
FEW_RESULTS = 2000

# Beyond this many related rows (a word such as "branch" naming every customer), the documents are matched
# through a subquery instead of a list of ids: slower, but still correct.
RELATED_IDS_LIMIT = 1000

_NUMBER_LIKE = re.compile(r"^[\w/.-]*\d[\w/.-]*$")


@dataclass(frozen=True)
class RelatedSearch:
    """Rows of this model whose `lookup` (e.g. "customer_id") is among the `values` column of the `model`'s
    rows matching the word on one of `fields`."""

    lookup: str
    model: type
    fields: tuple[str, ...]
    values: str = "pk"

    def q(self, word: str) -> Q:
        related = self.model._base_manager.filter(_any_contains(self.fields, word))
        return values_among(self.lookup, related, self.values)


def values_among(lookup: str, related: QuerySet, column: str) -> Q:
    """`lookup` IN the `column` values of `related`, read first (one query) and passed as a list of values:
    inside an OR, PostgreSQL can then combine index scans, where an IN (subquery) would make it read every
    row. More than RELATED_IDS_LIMIT values: the subquery after all."""
    values = related.order_by().values_list(column, flat=True).distinct()  # no ordering columns in DISTINCT
    found = list(values[: RELATED_IDS_LIMIT + 1])
    if len(found) > RELATED_IDS_LIMIT:
        return Q(**{f"{lookup}__in": values})
    return Q(**{f"{lookup}__in": found}) if found else Q(pk__in=[])


def rows_matching(queryset: QuerySet) -> Q:
    """The rows of `queryset` (e.g. an app's search over its own tables, an EXISTS), as a condition to OR
    with others on the same model: their ids, read first."""
    return values_among("pk", queryset, "pk")


def _any_contains(fields, word: str) -> Q:
    return Q.create([(f"{field}__icontains", word) for field in fields], connector=Q.OR)


def search_words(search_term: str) -> list[str]:
    """The words of a search as Django's admin splits them: on spaces, "quoted phrases" kept whole."""
    words = []
    for bit in smart_split(search_term):
        if len(bit) > 1 and bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        if bit:
            words.append(bit)
    return words


def looks_like_number(term: str, max_length: int) -> bool:
    return len(term) <= max_length and bool(_NUMBER_LIKE.match(term))


def exact_number_matches(queryset: QuerySet, term: str, field: str) -> QuerySet | None:
    """The rows whose `field` is `term` as typed or upper-cased (numbers are stored as issued, prefixes in
    capitals), or None when there are none. One query on the number's unique index."""
    found = queryset.filter(**{f"{field}__in": sorted({term, term.upper()})})
    return found if found.exists() else None


def indexed_search(
    queryset: QuerySet,
    search_term: str,
    *,
    own: tuple[str, ...],
    related: tuple[RelatedSearch, ...] = (),
    number: str | None = None,
) -> QuerySet:
    """`queryset` narrowed to what `search_term` finds (see the module docstring); never duplicates rows."""
    term = search_term.strip()
    if not term:
        return queryset
    if number is not None:
        max_length = queryset.model._meta.get_field(number).max_length or 0
        if looks_like_number(term, max_length):
            exact = exact_number_matches(queryset, term, number)
            if exact is not None:
                return exact
    for word in search_words(term):
        condition = _any_contains(own, word)
        for relation in related:
            condition |= relation.q(word)
        queryset = queryset.filter(condition)
    return queryset


class SearchResultsPaginator(Paginator):
    """Pages of a search's results. A page is the first rows in the list's order (newest first): PostgreSQL
    walks the date index and tests each row against the search until it has a page, which is quick when
    the search finds much and slow when it finds little (0.1 s for 400 invoices among 200,000). So, after
    the count, when the search found at most FEW_RESULTS rows, their ids are read first (through the indexes
    that found them) and the page is sorted from those: one query more, a few milliseconds."""

    def page(self, number):
        if self.count <= FEW_RESULTS and isinstance(self.object_list, QuerySet):
            ids = list(self.object_list.order_by().values_list("pk", flat=True))
            self.object_list = self.object_list.filter(pk__in=ids)
        return super().page(number)


class IndexedSearchMixin:
    """`get_search_results` through `indexed_search`. Set `search_own`, `search_related` and
    `search_number` on the admin; the list then skips the full COUNT(*) of the table under a search."""

    search_own: tuple[str, ...] = ()
    search_related: tuple[RelatedSearch, ...] = ()
    search_number: str | None = None
    show_full_result_count = False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        if request.GET.get(SEARCH_VAR, "").strip():
            return SearchResultsPaginator(queryset, per_page, orphans, allow_empty_first_page)
        return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if changelist.query.strip():
            # The date drill-down above a search's results reads MIN/MAX(date) of what was found: PostgreSQL
            # walks the date index looking for the first match, the whole table when a word finds nothing
            # (0.3 s at 200,000 invoices). A date already chosen still filters; the drill-down comes back
            # with the search cleared.
            changelist.date_hierarchy = None
        return changelist

    def get_search_results(self, request, queryset, search_term):
        found = indexed_search(
            queryset, search_term, own=self.search_own, related=self.search_related, number=self.search_number
        )
        return found, False
