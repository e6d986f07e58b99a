from django.shortcuts import render

from portal import selectors

from .access import portal_view


@portal_view
def home(request):
    user = request.user
    customers = list(selectors.visible_customers(user=user))
    own = next((c for c in customers if c.pk == user.contact.customer_id), None)
    branches = [c for c in customers if c.pk != user.contact.customer_id]
    contacts = list(selectors.visible_contacts(user=user).filter(customer_id=user.contact.customer_id))
    return render(request, "portal/home.html", {
        "customer": own, "branches": branches, "customers": customers, "contacts": contacts,
    })
