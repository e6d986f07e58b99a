"""Admin for customers, contact persons, groups, items, price lists and organisation settings.

Hierarchy rules live in Customer.clean(), which the admin form runs through full_clean():
a refused link shows its message next to the field and nothing is saved. Group and portal
changes for several customers go through the services, 50 customers at a time.
"""

from . import catalog, contacts, customer  # noqa: F401
