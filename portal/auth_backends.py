"""Authentication backends that load a login's contact person and customer with the user.

Every portal page needs the contact (is the portal enabled for it?) and its customer (whose tree it
sees). Django loads the user on each request with one query and would then read the contact and the
customer with one more each; these backends join them into that first query. A staff login has no
contact: the join finds none and `user.contact` raises as before.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend


class _UserWithContact:
    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("contact__customer").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_UserWithContact, DjangoModelBackend):
    """Django's username/password backend (the admin's login)."""


class AuthenticationBackend(_UserWithContact, AllauthBackend):
    """allauth's backend (the portal's login by email)."""
