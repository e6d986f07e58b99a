"""The login's contact person and customer come with the user, in the query Django makes for every request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.auth_backends import AuthenticationBackend, ModelBackend
from tests.factories import ContactPersonFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
BACKENDS = [ModelBackend, AuthenticationBackend]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_user_arrives_with_its_contact_and_customer_in_one_query(backend, django_assert_num_queries):
    contact = ContactPersonFactory(customer__display_name="Head Office Ltd")

    with django_assert_num_queries(1):
        user = backend().get_user(contact.user.pk)
        assert user.contact.pk == contact.pk
        assert user.contact.customer.display_name == "Head Office Ltd"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_staff_login_has_no_contact_and_costs_no_second_query(backend, django_assert_num_queries):
    staff = StaffUserFactory()

    with django_assert_num_queries(1):
        user = backend().get_user(staff.pk)
        assert user == staff and not hasattr(user, "contact")


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_inactive_or_missing_user_is_nobody(backend):
    contact = ContactPersonFactory(user__is_active=False)

    assert backend().get_user(contact.user.pk) is None
    assert backend().get_user(10**9) is None


def test_a_portal_page_reads_the_contact_and_customer_with_the_user(client):
    contact = ContactPersonFactory()
    client.force_login(contact.user)
    client.get("/")

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200

    contact_by_user = 'FROM "billing_contactperson" WHERE "billing_contactperson"."user_id"'
    assert not [q for q in queries if contact_by_user in q["sql"]]
