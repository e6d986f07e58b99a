"""The invitation a forwarded document's recipient gets: accept it to become a contact person."""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from portal.services import accept_forward_invitation, pending_forward_invitation


@require_http_methods(["GET", "POST"])
def forward_invitation(request, token: str):
    """GET shows what accepting means; only the POST adds the contact (mail scanners follow links)."""
    forward = pending_forward_invitation(token=token)
    if request.method == "POST" and forward is not None:
        try:
            forward = accept_forward_invitation(token=token)
        except ValidationError:
            forward = None
        else:
            return render(request, "portal/forward_invitation.html", {"forward": forward, "accepted": True})
    status = 200 if forward is not None else 404
    return render(request, "portal/forward_invitation.html", {"forward": forward}, status=status)
