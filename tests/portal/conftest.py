import pytest

from billing.services import link_to_parent
from tests.factories import ContactPersonFactory, CustomerFactory, StaffUserFactory


@pytest.fixture
def head_office():
    """Head office with a shared branch, a private branch (no parent access), and a grandchild under it."""
    contact = ContactPersonFactory(customer__display_name="Head Office Ltd")
    parent = contact.customer
    shared = CustomerFactory(display_name="Shared Branch")
    link_to_parent(customer=shared, parent=parent, allow_parent_access=True)
    private = CustomerFactory(display_name="Private Branch")
    link_to_parent(customer=private, parent=parent, allow_parent_access=False)
    below_private = CustomerFactory(display_name="Below Private Branch")
    link_to_parent(customer=below_private, parent=private, allow_parent_access=True)
    return dict(contact=contact, parent=parent, shared=shared, private=private, below_private=below_private)


@pytest.fixture
def staff_user():
    return StaffUserFactory(email="staff@billing.example")
