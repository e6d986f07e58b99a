from django.core.paginator import Paginator
from django.urls import NoReverseMatch, reverse

PAGE_SIZE = 25
PAY_DISABLED_REASON = (
    "Online payment isn't available yet. Pay by bank transfer using the details on your invoice."
)
PAYMENT_PROCESSING_REASON = (
    "A bank payment for this invoice is processing. It can be paid again only if that payment fails."
)


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """A page of rows; a bad or too large page number shows the nearest page instead of an error."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def pay_url(name: str, **kwargs) -> str | None:
    """The payments flow's URL when it is installed; None shows Pay Now disabled with a reason."""
    try:
        return reverse(f"portal:{name}", kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def branches_of(customers) -> list:
    return sorted(customers, key=lambda c: c.display_name)
