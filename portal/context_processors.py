from django.utils.functional import SimpleLazyObject

from billing.models import Organisation


def portal(request):
    """The organisation's name, contact details and banner on every page, loaded only if used."""
    return {"organisation": SimpleLazyObject(Organisation.current)}
