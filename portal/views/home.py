from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from billing.selectors import visible_customers


@login_required
def home(request):
    customers = list(visible_customers(user=request.user))
    return render(request, "portal/home.html", {"customers": customers})
