from allauth.account.adapter import DefaultAccountAdapter


class PortalAccountAdapter(DefaultAccountAdapter):
    """Portal logins are created by staff invitations only: no public sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False
