"""Who may see whom: the hierarchy reads every portal query starts from; which customers hold
transactions or branches (what an import may not delete)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from billing.models import ContactPerson, Customer
from billing.money import ZERO

_SUBTREE_OPEN_TO_PARENT = """WITH RECURSIVE tree(id) AS (
    SELECT id FROM billing_customer WHERE id = %s
    UNION  -- not UNION ALL: a cycle in bad data must not loop forever
    SELECT c.id FROM billing_customer c JOIN tree ON c.parent_id = tree.id WHERE c.allow_parent_access
) SELECT id FROM tree"""

# The same tree for the portal: empty when the contact's own customer has its portal off.
_SUBTREE_VISIBLE_IN_PORTAL = _SUBTREE_OPEN_TO_PARENT.replace("WHERE id = %s", "WHERE id = %s AND portal_enabled", 1)

_WHOLE_SUBTREE = """WITH RECURSIVE tree(id) AS (
    SELECT id FROM billing_customer WHERE id = %s
    UNION
    SELECT c.id FROM billing_customer c JOIN tree ON c.parent_id = tree.id
) SELECT id FROM tree"""


def customers_under(*, customer_id: int) -> QuerySet[Customer]:
    """This customer and each descendant whose every link up to it allows parent access.

    One SQL query (a recursive CTE) however deep or wide the tree is.
    """
    return Customer.objects.filter(pk__in=RawSQL(_SUBTREE_OPEN_TO_PARENT, [customer_id]))


def customer_subtree(*, customer_id: int) -> QuerySet[Customer]:
    """This customer and all its descendants, shared with the parent or not (back office only)."""
    return Customer.objects.filter(pk__in=RawSQL(_WHOLE_SUBTREE, [customer_id]))


def visible_customers(*, user) -> QuerySet[Customer]:
    """Customers a portal user may see. Every portal query starts here.

    Nothing for anonymous users, staff without a contact person, contacts whose access was
    disabled, or contacts of a customer whose portal is off.
    """
    own = _portal_customer_id(user)
    if own is None:
        return Customer.objects.none()
    return Customer.objects.filter(pk__in=RawSQL(_SUBTREE_VISIBLE_IN_PORTAL, [own]))


def _portal_customer_id(user) -> int | None:
    """The customer whose tree the user sees, or None: anonymous, staff without a contact person, a
    disabled contact or user."""
    if not user.is_authenticated:
        return None
    contact = getattr(user, "contact", None)
    if contact is None or not contact.portal_enabled or not user.is_active:
        return None
    return contact.customer_id


def visible_root(*, user) -> Customer | None:
    """The top of `visible_customers(user=user)`, the contact's own customer, or None: the anchor row of the
    recursive query is exactly this customer when its portal is on. No query when the customer was loaded
    with the user (portal.auth_backends), one primary-key read otherwise."""
    if _portal_customer_id(user) is None:
        return None
    customer = user.contact.customer
    return customer if customer.portal_enabled else None


class VisibleCustomer(NamedTuple):
    pk: int
    display_name: str
    currency: str


_VISIBLE_ROWS = _SUBTREE_VISIBLE_IN_PORTAL.removesuffix("SELECT id FROM tree") + (
    "SELECT c.id, c.display_name, c.currency FROM tree JOIN billing_customer c ON c.id = tree.id"
)


def visible_customer_rows(*, user) -> list[VisibleCustomer]:
    """`visible_customers(user=user)` read now as (pk, display_name, currency) rows, in no particular order:
    the recursive query alone, sent as plain SQL (no ORM compile).

    For `portal.selectors.PortalScope`, which reads them once per request so that a page filtering several
    lists by the same customers sends their ids (`billing.selectors.sql.IdIn`) instead of a subquery on the
    recursive CTE (~1.5 ms of planning and execution each time at a thousand branches)."""
    own = _portal_customer_id(user)
    if own is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_VISIBLE_ROWS, [own])
        return [VisibleCustomer(*row) for row in cursor.fetchall()]


def _hierarchy_tree(root_id: int) -> tuple[list[Customer], dict[int | None, list[Customer]]]:
    """Every customer of the tree (one query, group joined) and each one's children, by name."""
    nodes = list(customer_subtree(customer_id=root_id).select_related("group").order_by("display_name", "pk"))
    children: dict[int | None, list[Customer]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    return nodes, children


def hierarchy_rows(*, root_id: int) -> list[tuple[int, Customer]]:
    """The whole tree under `root_id` as (depth, customer) in display order.

    One query for the rows; the tree is ordered in Python so depth costs nothing extra.
    """
    nodes, children = _hierarchy_tree(root_id)
    rows: list[tuple[int, Customer]] = []
    stack = [(0, node) for node in reversed([n for n in nodes if n.pk == root_id])]
    seen: set[int] = set()
    while stack:
        depth, node = stack.pop()
        if node.pk in seen:  # bad data with a cycle must not hang the page
            continue
        seen.add(node.pk)
        rows.append((depth, node))
        stack.extend((depth + 1, child) for child in reversed(children.get(node.pk, [])))
    return rows


HIERARCHY_PAGE_SIZE = 100


@dataclass(frozen=True)
class BranchPage:
    """One page of the branches of `parent` (shown below them at `depth`): a parent with more branches than
    a page holds lists them a page at a time."""

    parent: Customer
    depth: int
    page: Page


@dataclass
class HierarchyPage:
    rows: list[tuple[int, Customer | BranchPage]]  # in display order; a BranchPage follows its page's rows
    outstanding: dict[int, Decimal]  # every customer of the tree, shown or not (as `customer_outstanding`)


def hierarchy_page(
    *,
    root_id: int,
    pages: Mapping[int, str] | None = None,
    current_id: int | None = None,
    per_page: int = HIERARCHY_PAGE_SIZE,
) -> HierarchyPage:
    """The tree under `root_id` as `hierarchy_rows` lists it, except that a customer with more than
    `per_page` branches shows one page of them (and their own branches), then a `BranchPage` row.

    `pages` maps a parent's id to the page asked for (any text: a bad one gives the first or last page); by
    default the page holding `current_id`, else the first. Two queries however wide the tree: its shape with
    each customer's outstanding figure (ids and amounts: 1,001 of them in ~15 ms, where reading them as
    customers took ~80 ms), then the customers shown.
    """
    pages = pages or {}
    shape = list(
        customer_subtree(customer_id=root_id)
        .order_by("display_name", "pk")
        .values_list("pk", "parent_id", "account_balance__outstanding_invoices")
    )
    parent_of = {pk: parent_id for pk, parent_id, _owed in shape}
    children: dict[int | None, list[int]] = {}
    for pk, parent_id, _owed in shape:
        children.setdefault(parent_id, []).append(pk)
    on_path: dict[int, int] = {}  # parent id → the child leading down to the current customer
    node, seen = current_id, set()
    while node in parent_of and parent_of[node] in parent_of and node not in seen:
        seen.add(node)
        on_path[parent_of[node]] = node
        node = parent_of[node]

    walked: list[tuple[int, int, Page | None]] = []  # (depth, customer id, page of its branches shown below)
    stack: list[tuple[int, int, Page | None]] = [(0, root_id, None)] if root_id in parent_of else []
    seen = set()
    while stack:
        depth, pk, page = stack.pop()
        if page is not None:
            walked.append((depth, pk, page))
            continue
        if pk in seen:  # bad data with a cycle must not hang the page
            continue
        seen.add(pk)
        walked.append((depth, pk, None))
        branches = children.get(pk, [])
        if len(branches) > per_page:
            asked = pages.get(pk)
            if asked is None and pk in on_path:
                asked = branches.index(on_path[pk]) // per_page + 1
            page = Paginator(branches, per_page).get_page(asked)
            stack.append((depth + 1, pk, page))
            branches = page.object_list
        stack.extend((depth + 1, child, None) for child in reversed(branches))

    shown = Customer.objects.select_related("group").in_bulk([pk for _depth, pk, page in walked if page is None])
    rows: list[tuple[int, Customer | BranchPage]] = [
        (depth, shown[pk] if page is None else BranchPage(parent=shown[pk], depth=depth, page=page))
        for depth, pk, page in walked
    ]
    return HierarchyPage(rows=rows, outstanding={pk: owed or ZERO for pk, _parent_id, owed in shape})


def hierarchy_root(*, customer: Customer) -> Customer:
    """The top of the tree this customer belongs to (itself when it has no parent)."""
    ids = customer.ancestor_ids()
    if not ids:
        return customer
    return Customer.objects.filter(pk__in=ids, parent__isnull=True).first() or customer


def customers_with_transactions(*, customer_ids: Iterable[int]) -> set[int]:
    """Ids among `customer_ids` that have any ledger row (invoice, payment, credit note…).

    Generic on purpose: every reverse relation on Customer counts except contact persons and
    branches, so a ledger model added later protects customers without a change here. Relations
    declared without a reverse accessor (`related_name="+"`: staff notifications, an integration's
    own bookkeeping such as its links) are not the customer's business and do not count.
    One query per related model, whatever the number of customers.
    """
    ids = set(customer_ids)
    found: set[int] = set()
    if not ids:
        return found
    for relation in Customer._meta.related_objects:  # hidden relations are not listed
        model = relation.related_model
        if model in (ContactPerson, Customer):
            continue
        name = relation.field.name
        found.update(model._base_manager.filter(**{f"{name}__in": ids - found}).values_list(name, flat=True).distinct())
        if found >= ids:
            break
    return found


def customers_with_branches(*, customer_ids: Iterable[int]) -> set[int]:
    """Ids among `customer_ids` that are the parent of another customer."""
    return set(Customer.objects.filter(parent_id__in=list(customer_ids)).values_list("parent_id", flat=True))
