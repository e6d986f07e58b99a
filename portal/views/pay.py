"""Pay Now: choose invoices and a method, hand over to the gateway, show the outcome.

Views parse and answer; billing.services.online_payments checks every rule again with the
invoices locked, so a tampered form gets the service's message and nothing is written.
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.gateways import GatewayError, PaymentDeclined, get_gateway
from billing.models import CheckoutAttempt, Payment, SavedPaymentMethod
from billing.money import parse_money
from billing.services.online_payments import (
    begin_saving_method,
    confirm_checkout,
    pay_with_saved_setup,
    refresh_checkout,
    remove_saved_method,
    settle_sandbox_payment,
    start_checkout,
)
from portal import selectors

from .access import portal_view

SANDBOX_CHOICES = {
    Payment.Method.CARD: [
        ("card_success", _("Card 4242 4242 4242 4242: payment succeeds")),
        ("card_decline", _("Card 4000 0000 0000 0002: card is declined")),
    ],
    Payment.Method.ACH: [
        ("ach_settles", _("Bank account ···6789: processing, then settles")),
        ("ach_fails", _("Bank account ···1116: processing, then the bank returns it")),
    ],
}


class MethodForm(forms.Form):
    method = forms.ChoiceField(label=_("Pay with"), widget=forms.RadioSelect)
    save_method = forms.BooleanField(label=_("Use this for future payments"), required=False)

    def __init__(self, *args, payer, saved_methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.saved = {str(m.pk): m for m in saved_methods if m.kind == SavedPaymentMethod.Kind.CARD or payer.allow_ach}
        choices = [(f"saved:{pk}", _("Saved: %(m)s") % {"m": m}) for pk, m in self.saved.items()]
        choices.append((Payment.Method.CARD, _("New card")))
        if payer.allow_ach:
            choices.append((Payment.Method.ACH, _("New US bank account (ACH)")))
        self.fields["method"].choices = choices
        self.fields["method"].initial = choices[0][0]

    def method_and_saved(self):
        value = self.cleaned_data["method"]
        if value.startswith("saved:"):
            saved = self.saved[value.split(":", 1)[1]]
            return saved.payment_method, saved
        return value, None


def _posted_allocations(post, currency: str) -> dict[int, Decimal]:
    """{invoice id: amount} from the posted form; shape only, the service applies the rules.

    Amounts go through billing.money.parse_money: "1e26", "NaN" or "1.234" are the form's
    error (400), never a 500 and never echoed back as "1E+3".
    """
    allocations = {}
    for raw in post.getlist("invoice"):
        if not str(raw).isdigit():
            raise ValidationError(_("Choose the invoices to pay from the list."), code="bad_invoice")
        allocations[int(raw)] = parse_money(post.get(f"amount_{raw}", ""), currency)
    return allocations


def _pay_page(request, *, invoices, title, editable):
    """The pay form for these invoices: GET shows it; a POST with a method starts the checkout."""
    scope = request.portal_scope
    payer = scope.own  # the contact's own customer pays, for its branches too
    gateway = get_gateway()
    processing = selectors.processing_invoice_ids(invoices=invoices)
    submitted = request.method == "POST" and "method" in request.POST
    form = MethodForm(
        request.POST if submitted else None,
        payer=payer,
        saved_methods=selectors.saved_payment_methods(scope=scope, gateway=gateway.name),
    )
    if submitted and form.is_valid():
        method, saved = form.method_and_saved()
        try:
            allocations = _posted_allocations(request.POST, payer.currency)
            attempt = start_checkout(
                payer=payer,
                allocations=allocations,
                currency=request.POST.get("currency", ""),
                method=method,
                saved_method=saved,
                save_method=form.cleaned_data["save_method"],
                started_by=request.user,
                gateway=gateway,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except GatewayError as exc:
            form.add_error(None, exc.reason)
        else:
            return redirect("portal:pay-checkout", token=attempt.token)
    rows = [(inv, inv.pk in processing) for inv in invoices]
    payable = [inv for inv, blocked in rows if not blocked]
    total = sum((inv.balance_due for inv in payable), Decimal("0.00"))
    return render(
        request,
        "portal/pay/pay.html",
        {
            "title": title,
            "rows": rows,
            "payable": payable,
            "total": total,
            "currency": payer.currency,
            "editable": editable,
            "form": form,
            "payer": payer,
            "form_action": request.get_full_path(),
        },
        status=400 if submitted and not form.is_valid() else 200,
    )


@portal_view
@require_http_methods(["GET", "POST"])
def pay_outstanding(request):
    """The whole outstanding amount of the payer and its visible branches, oldest due first."""
    scope = request.portal_scope
    if request.method == "POST" and "invoice" in request.POST:
        invoices = selectors.payable_invoices(scope=scope, ids=_ids(request.POST.getlist("invoice")))
    else:
        invoices = selectors.outstanding_to_pay(scope=scope)
    return _pay_page(request, invoices=invoices, title=_("Pay all outstanding invoices"), editable=False)


@portal_view
@require_http_methods(["GET", "POST"])
def pay_invoice(request, invoice_id: int):
    """One invoice (or retainer): its balance; a smaller amount only when the invoice allows it."""
    invoice = selectors.invoice_to_pay(scope=request.portal_scope, invoice_id=invoice_id)
    if invoice is None:
        raise Http404
    if not invoice.is_open:
        messages.info(request, _("Invoice %(number)s has nothing left to pay.") % {"number": invoice.number})
        return redirect("portal:home")
    return _pay_page(
        request,
        invoices=[invoice],
        title=_("Pay invoice %(number)s") % {"number": invoice.number},
        editable=invoice.allow_partial_payments,
    )


@portal_view
@require_POST
def pay_selected(request):
    """Invoices ticked on the invoice list (any visible branch), paid in one payment."""
    ids = _ids(request.POST.getlist("invoice") or request.POST.getlist("invoice_ids"))
    invoices = selectors.payable_invoices(scope=request.portal_scope, ids=ids)
    if not invoices:
        messages.error(request, _("Tick at least one open invoice to pay."))
        return redirect("portal:invoice-list")
    return _pay_page(request, invoices=invoices, title=_("Pay selected invoices"), editable=False)


def _ids(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


def _attempt(request, token) -> CheckoutAttempt:
    attempt = selectors.checkout_attempt(scope=request.portal_scope, token=token)
    if attempt is None:
        raise Http404
    return attempt


@portal_view
@require_http_methods(["GET", "POST"])
def checkout(request, token):
    """Stripe's Payment Element, a saved method's Pay button, or the sandbox's outcome form."""
    attempt = _attempt(request, token)
    if attempt.status != CheckoutAttempt.Status.OPEN:
        return redirect("portal:pay-done", token=attempt.token)
    gateway = get_gateway(attempt.gateway)
    error = ""
    if request.method == "POST":
        pm = ""
        if not attempt.saved_method_id:
            scenario = request.POST.get("scenario", "")
            if gateway.uses_stripe_js or scenario not in dict(SANDBOX_CHOICES[attempt.method]):
                error = _("Choose one of the outcomes below.")
            else:
                pm = gateway.create_payment_method(scenario=scenario)
        if not error:
            try:
                attempt = confirm_checkout(attempt=attempt, payment_method_id=pm, gateway=gateway)
            except PaymentDeclined as exc:
                error = exc.reason
            except ValidationError as exc:
                error = " ".join(exc.messages)
            except GatewayError as exc:
                error = exc.reason
            else:
                return redirect("portal:pay-done", token=attempt.token)
    lines = selectors.checkout_lines(attempt=attempt)
    setup_secret = ""
    if gateway.uses_stripe_js and attempt.save_method and not attempt.saved_method_id:
        # Opted to save: Stripe.js confirms a SetupIntent, then we pay server-side with the saved method.
        try:
            setup_secret = begin_saving_method(attempt=attempt, gateway=gateway).client_secret
        except GatewayError as exc:
            error = exc.reason
    return render(
        request,
        "portal/pay/checkout.html",
        {
            "attempt": attempt,
            "lines": lines,
            "error": error,
            "gateway": gateway,
            "scenarios": SANDBOX_CHOICES[attempt.method] if not gateway.uses_stripe_js else [],
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "setup_secret": setup_secret,
            "return_url": request.build_absolute_uri(reverse("portal:pay-return", kwargs={"token": attempt.token})),
        },
        status=402 if error else 200,
    )


@portal_view
@require_GET
def checkout_return(request, token):
    """Where Stripe.js sends the browser back. The server asks Stripe; the redirect itself proves nothing."""
    attempt = _attempt(request, token)
    setup_intent_id = request.GET.get("setup_intent", "")
    try:
        if setup_intent_id and attempt.status == CheckoutAttempt.Status.OPEN:
            pay_with_saved_setup(attempt=attempt, setup_intent_id=setup_intent_id)
        else:
            refresh_checkout(attempt=attempt)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("portal:pay-checkout", token=attempt.token)
    except GatewayError as exc:
        messages.error(request, exc.reason)
        return redirect("portal:pay-checkout", token=attempt.token)
    return redirect("portal:pay-done", token=attempt.token)


@portal_view
@require_GET
def checkout_done(request, token):
    """The confirmation: paid (with the receipt and each invoice's new balance), processing, or failed."""
    attempt = _attempt(request, token)
    if (
        attempt.status in (CheckoutAttempt.Status.OPEN, CheckoutAttempt.Status.PROCESSING)
        and attempt.confirmed_at
        and attempt.gateway == "stripe"
    ):
        try:
            attempt = refresh_checkout(attempt=attempt)
        except GatewayError as exc:
            messages.warning(request, exc.reason)
    lines = list(selectors.checkout_lines(attempt=attempt))
    allocations = selectors.checkout_allocations(attempt=attempt)
    return render(
        request,
        "portal/pay/done.html",
        {
            "attempt": attempt,
            "lines": lines,
            "allocations": allocations,
            "payment": attempt.payment,
            "can_simulate": attempt.gateway == "sandbox" and attempt.status == CheckoutAttempt.Status.PROCESSING,
        },
    )


@portal_view
@require_POST
def checkout_settle(request, token):
    """Sandbox only: make the processing bank payment settle or fail now (days pass in a click)."""
    attempt = _attempt(request, token)
    if attempt.gateway != "sandbox":
        raise Http404
    try:
        settle_sandbox_payment(attempt=attempt, succeed=request.POST.get("outcome") == "settle")
    except (ValidationError, GatewayError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [getattr(exc, "reason", "")])))
    return redirect("portal:pay-done", token=attempt.token)


@portal_view
@require_http_methods(["GET", "POST"])
def payment_methods(request):
    """Saved cards and bank accounts of the payer, each removable."""
    methods = selectors.saved_payment_methods(scope=request.portal_scope)
    if request.method == "POST":
        ids = _ids([request.POST.get("remove", "")])
        saved = get_object_or_404(methods, pk=ids[0] if ids else 0)
        try:
            remove_saved_method(saved=saved)
        except GatewayError as exc:
            messages.error(request, exc.reason)
        else:
            messages.success(request, _("%(method)s was removed.") % {"method": saved})
        return redirect("portal:payment-methods")
    return render(request, "portal/pay/methods.html", {"methods": methods})
