"""Template tags of the back office's ledger lists."""

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from billing.admin.dates import indexed_date_hierarchy

register = template.Library()


@register.tag(name="indexed_date_hierarchy")
def indexed_date_hierarchy_tag(parser, token):
    """`{% indexed_date_hierarchy cl %}`: Django's `{% date_hierarchy cl %}`, its dates read through the index
    (billing/admin/dates.py)."""
    return InclusionAdminNode(
        parser, token, func=indexed_date_hierarchy, template_name="date_hierarchy.html", takes_context=False
    )
