"""The per-request visibility scope of a portal user."""

from django.db.models import F, Q, QuerySet
from django.utils.functional import cached_property

from billing.models import Customer
from billing.selectors import visible_customers
from billing.selectors.customers import VisibleCustomer, visible_customer_rows, visible_root
from billing.selectors.sql import IdIn, Ids


class PortalScope:
    """What one request of a portal user may see, read at most once.

    `own` is the contact's own customer (the top of what it sees; loaded with the user, no query), or None
    when the user has no portal access. `rows` are the visible customers as (pk, display_name, currency),
    read with ONE recursive query the first time a page needs them (a list with an account column, a
    branch select, several lists filtered by the same customers).

    The rule stays `billing.selectors.visible_customers`; the scope only decides how a query states it.
    Once `rows` are read, `customers` and `customer_filter` send their ids as one array
    (`billing.selectors.sql.IdIn`), so no later query plans the recursive CTE again (~1.5 ms each at 1,000
    branches); before that, the recursive subquery itself, so a page that reads one document costs one
    query, not two. `portal.views.access.portal_view` builds it as `request.portal_scope`.
    """

    def __init__(self, user):
        self.user = user
        self.own: Customer | None = visible_root(user=user)

    @cached_property
    def rows(self) -> list[VisibleCustomer]:
        return visible_customer_rows(user=self.user) if self.own is not None else []

    def read(self) -> "PortalScope":
        """Read the rows now, for a page whose every list below filters by the same customers."""
        _ = self.rows
        return self

    @cached_property
    def ids(self) -> Ids:
        return Ids(row.pk for row in self.rows)

    @property
    def names(self) -> dict[int, str]:
        return {row.pk: row.display_name for row in self.rows}

    @property
    def has_branches(self) -> bool:
        """More than one account is visible: lists show which account each row belongs to."""
        return len(self.rows) > 1

    @property
    def _read(self) -> bool:
        return "rows" in self.__dict__

    @property
    def customers(self) -> QuerySet[Customer]:
        """Exactly the visible customers: by their ids once read, else the recursive subquery."""
        if self._read:
            return Customer.objects.filter(IdIn(F("pk"), self.ids))
        return visible_customers(user=self.user)

    def customer_filter(self, field: str = "customer"):
        """The condition "`field` (a foreign key to Customer) is a visible customer", for `.filter(...)`."""
        if self._read:
            return IdIn(F(f"{field}_id"), self.ids)
        return Q(**{f"{field}__in": visible_customers(user=self.user)})
