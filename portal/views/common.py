from django.core.paginator import Paginator

PAGE_SIZE = 25
PAYMENT_PROCESSING_REASON = (
    "A bank payment for this invoice is processing. It can be paid again only if that payment fails."
)


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """A page of rows; a bad or too large page number shows the nearest page instead of an error."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def branches_of(customers) -> list:
    return sorted(customers, key=lambda c: c.display_name)
