"""Empty means the customer's effective value, on every document form of the back office.

Invoice, sales order, subscription and credit note forms leave the rate, discount and terms fields empty;
the services then take the customer's own value, else its group's, else the organisation default
(billing.selectors.pricing). A typed value, 0 included, is an override. The placeholders say so, and
static/js/admin/effective_terms.js shows the effective figures as soon as an item is picked, from
`effective_terms_json` (staff only). Those figures are only a hint: the services price again on save.
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from billing.models import Customer, Item
from billing.money import HUNDRED, format_money, quantize
from billing.selectors import effective_price, effective_terms

EFFECTIVE_TERMS_JS = "js/admin/effective_terms.js"
MEDIA = forms.Media(js=[EFFECTIVE_TERMS_JS])


def _source(source: str) -> str:
    return {
        "customer": _("the customer's own"),
        "group": _("group default"),
        "organisation": _("organisation default"),
    }[source]


def customer_hints(customer: Customer | None) -> dict:
    """What the empty fields of a document for this customer will take (placeholders), or a generic word."""
    if customer is None:
        return {"customer": "", "discount": _("group default"), "rate": _("customer's price")}
    terms = effective_terms(customer=customer)
    return {
        "customer": str(customer.pk),
        "discount": f"{terms.discount_percent} ({_source(terms.discount_source)})",
        "rate": _("customer's price"),
    }


def hint_effective_fields(form, hints: dict, *, item="item", rate="rate", discount="discount_percent") -> None:
    """Placeholders on the empty-means-effective fields; on the item select, what the page's script needs."""
    fields = form.fields
    if item in fields:
        widget = fields[item].widget
        # Inside the admin's related-field wrapper: the wrapper's own `attrs` is the form class's widget's
        # (shared by every form), the inner widget is this form's copy.
        attrs = getattr(widget, "widget", widget).attrs
        attrs.update(
            {
                "data-effective-url": reverse("admin:billing_effective_terms"),
                "data-rate-field": rate if rate in fields else "",
                "data-discount-field": discount if discount in fields else "",
            }
        )
        if hints["customer"]:
            attrs["data-customer"] = hints["customer"]
    if rate in fields:
        fields[rate].widget.attrs.setdefault("placeholder", hints["rate"])
    if discount in fields:
        fields[discount].widget.attrs["placeholder"] = hints["discount"]
        fields[discount].help_text = _("Empty: the customer's discount (its own, else its group's). 0: no discount.")


def _id(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 18 else None


def effective_terms_json(request):
    """GET ?customer=<id>[&item=<id>]: the customer's effective rate for the item, discount and payment terms.

    Staff only (the admin site's login, then the permission to view customers); 400 for a malformed id,
    404 for an unknown one. Read-only: documents are priced again by the services when saved.
    """
    if not request.user.has_perm("billing.view_customer"):
        raise PermissionDenied
    customer_id, item_raw = _id(request.GET.get("customer", "")), request.GET.get("item", "")
    item_id = _id(item_raw) if item_raw else None
    if customer_id is None or (item_raw and item_id is None):
        return JsonResponse({"error": _("Choose a customer and an item from the lists.")}, status=400)
    customer = get_object_or_404(Customer.objects.select_related("group"), pk=customer_id)
    terms = effective_terms(customer=customer)
    currency = customer.currency
    discount = terms.discount_percent
    data = {
        "customer": customer.pk,
        "currency": currency,
        "discount_percent": f"{discount}",
        "discount_source": terms.discount_source,
        "payment_terms_days": terms.payment_terms_days,
        "payment_terms_source": terms.payment_terms_source,
        "price_list": terms.price_list.name if terms.price_list else None,
    }
    summary = [
        _("discount %(d)s%% (%(src)s)") % {"d": discount, "src": _source(terms.discount_source)},
        _("terms %(days)s days (%(src)s)")
        % {"days": terms.payment_terms_days, "src": _source(terms.payment_terms_source)},
    ]
    if item_id is not None:
        item = get_object_or_404(Item, pk=item_id)
        data.update(item=item.pk, tax_percent=f"{item.tax_percent}", rate=None, rate_error="")
        try:
            rate = effective_price(customer=customer, item=item)
        except ValidationError as exc:
            data["rate_error"] = " ".join(exc.messages)
            summary.insert(0, data["rate_error"])
        else:
            net = quantize(rate * (HUNDRED - discount) / HUNDRED, currency)
            data.update(
                rate=f"{rate}", rate_shown=format_money(rate, currency), net_rate_shown=format_money(net, currency)
            )
            summary.insert(
                0,
                _("rate %(rate)s, %(net)s after discount")
                % {"rate": data["rate_shown"], "net": data["net_rate_shown"]},
            )
    data["summary"] = _("Effective: %(parts)s.") % {"parts": "; ".join(summary)}
    return JsonResponse(data)
