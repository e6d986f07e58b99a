from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from billing.models import Organisation
from billing.services import update_own_contact_details
from portal import selectors
from portal.documents import document_response
from portal.forms import MyDetailsForm, UploadForm
from portal.services import upload_documents

from .access import portal_view
from .common import paginate


@portal_view
def my_details(request):
    contact = request.user.contact
    customer = request.portal_scope.own
    organisation = Organisation.current()
    initial = {
        "phone": contact.phone,
        "mobile": contact.mobile,
        "billing_address": customer.billing_address,
        "shipping_address": customer.shipping_address,
    }
    form = None
    if organisation.portal_allows_contact_edits:
        form = MyDetailsForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                update_own_contact_details(contact=contact, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Your details are saved.")
                return redirect("portal:my-details")
    elif request.method == "POST":
        messages.error(request, f"{organisation.name} doesn't allow changes here; write to them instead.")
    contacts = list(selectors.own_contacts(scope=request.portal_scope))
    return render(
        request,
        "portal/my_details.html",
        {
            "customer": customer,
            "contact": contact,
            "form": form,
            "contacts": contacts,
        },
        status=400 if form is not None and form.errors else 200,
    )


@portal_view
def document_list(request):
    scope = request.portal_scope
    customer = scope.own
    form = UploadForm()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                stored = upload_documents(customer=customer, user=request.user, files=form.cleaned_data["files"])
            except ValidationError as exc:
                form.add_error("files", exc)
            else:
                messages.success(request, f"{len(stored)} file{'s' if len(stored) != 1 else ''} uploaded.")
                return redirect("portal:document-list")
    show_branch = scope.read().has_branches  # read once: the documents below are filtered by the ids
    documents = selectors.visible_documents(scope=scope).select_related("customer", "uploaded_by")
    return render(
        request,
        "portal/document_list.html",
        {
            "page": paginate(request, documents),
            "form": form,
            "show_branch": show_branch,
        },
        status=400 if form.errors else 200,
    )


@portal_view
def document_download(request, document_id: int):
    # Visible through the portal's one visibility selector, or a 404 that confirms nothing.
    document = get_object_or_404(selectors.visible_documents(scope=request.portal_scope), pk=document_id)
    return document_response(document)
