"""The customers as the reports lay them out: a tree of parents and branches, and groups (flat lists).

Every report shows one level at a time: the top-level customers (each rolled up with all its branches),
the direct branches of one parent (each rolled up, with the parent's own figures above them), the
members of one group (their own figures: a group is not a hierarchy), or one row per group (its
members' own figures added up); each line is a `ReportRow` of the report's own figures. The customers
are read in one query; the rest is done in Python, iteratively, so a deep chain cannot exhaust the
recursion limit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import CharField, Value
from django.db.models.functions import Coalesce

from billing.models import Customer

NO_GROUP = "none"  # the group filter's value for customers in no group
BY_GROUP = "groups"  # the group filter's value for one row per group

FiguresT = TypeVar("FiguresT")  # what a report adds up per row: aging's Figures, balances' AccountSubtotals


@dataclass(frozen=True)
class Node:
    pk: int
    parent_id: int | None
    name: str
    group: str
    group_id: int | None
    currency: str


@dataclass
class ReportRow(Generic[FiguresT]):
    """One line of a report at one level: a customer's own figures (`consolidated` False), its whole subtree,
    or a group's members added up (`customer_id` None)."""

    customer_id: int | None
    name: str
    group: str
    figures: FiguresT
    consolidated: bool = False
    branches: int = 0  # descendants under this customer (a consolidated row can be opened)
    group_key: str = ""  # a row per group (BY_GROUP): the group filter's value that lists its members
    members: int = 0


class Tree:
    """Every customer with its parent, branches and group, as of now (one query)."""

    def __init__(self):
        rows = Customer.objects.order_by().values_list(
            "pk",
            "parent_id",
            "display_name",
            Coalesce("group__name", Value(""), output_field=CharField()),
            "group_id",
            "currency",
        )
        self.nodes: dict[int, Node] = {row[0]: Node(*row) for row in rows}
        self.children: dict[int | None, list[int]] = defaultdict(list)
        for node in self.nodes.values():
            self.children[node.parent_id if node.parent_id in self.nodes else None].append(node.pk)

    def bottom_up(self) -> list[int]:
        """Every customer under a top-level one, each after all its branches."""
        order, stack = [], list(self.children[None])
        while stack:  # parents before children
            pk = stack.pop()
            order.append(pk)
            stack.extend(self.children.get(pk, ()))
        return order[::-1]

    def descendants(self) -> dict[int, int]:
        """{customer id: how many customers are under it}."""
        count: dict[int, int] = {}
        for pk in self.bottom_up():
            count[pk] = sum(1 + count[child] for child in self.children.get(pk, ()))
        return count

    def members(self, group: int | str) -> list[Node]:
        """The customers of a group (an id), or of none (`NO_GROUP`)."""
        wanted = None if group == NO_GROUP else int(group)
        return [node for node in self.nodes.values() if node.group_id == wanted]

    def groups(self) -> list[tuple[str, str, list[Node]]]:
        """(the group filter's value, name, members) of each group with members, and of the customers in none."""
        members: dict[int | None, list[Node]] = defaultdict(list)
        for node in self.nodes.values():
            members[node.group_id].append(node)
        return [
            (str(group_id) if group_id else NO_GROUP, nodes[0].group if group_id else "No group", nodes)
            for group_id, nodes in members.items()
        ]

    def trail(self, pk: int) -> list[tuple[int, str]]:
        """(id, name) from the top-level customer down to `pk`, for the breadcrumbs."""
        trail, seen = [], set()
        while pk in self.nodes and pk not in seen:
            seen.add(pk)
            trail.append((pk, self.nodes[pk].name))
            pk = self.nodes[pk].parent_id
        return list(reversed(trail))

    def common_ancestor(self, a: int, b: int) -> int | None:
        """The lowest customer whose subtree holds both `a` and `b` (None: they are in two hierarchies)."""
        above = {pk for pk, _name in self.trail(a)}
        for pk, _name in reversed(self.trail(b)):
            if pk in above:
                return pk
        return None
