"""Online payments in the back office: gateway ids and event history on each payment, refunds through
the gateway, checkout attempts (with the sandbox's settle/fail switch) and the raw gateway events."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.admin.ledger.common import call_service_for_each
from billing.gateways import GatewayError
from billing.models import CheckoutAttempt, CheckoutLine, Dispute, GatewayEvent, Payment, SavedPaymentMethod
from billing.money import MoneyFormField
from billing.services.online_payments import (
    close_sandbox_dispute,
    fail_sandbox_refund,
    open_sandbox_dispute,
    refund_online_payment,
    settle_sandbox_payment,
)

from .view_only import ViewOnlyAdminMixin

DISPUTE_FIELDS = (
    "gateway_dispute_id",
    "status",
    "amount",
    "currency",
    "reason",
    "evidence_due_by",
    "fee",
    "opened_on",
    "closed_on",
    "outcome",
    "hold",
)


class GatewayEventInline(admin.TabularInline):
    model = GatewayEvent
    fk_name = "payment"
    fields = ("received_at", "type", "event_id", "applied_at", "outcome")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("gateway event history")

    def has_add_permission(self, request, obj=None):
        return False


class CheckoutInline(admin.StackedInline):
    model = CheckoutAttempt
    fk_name = "payment"
    fields = (
        "gateway",
        "gateway_intent_id",
        "idempotency_key",
        "status",
        "method",
        "failure_reason",
        "started_by",
        "created_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("online checkout")

    def has_add_permission(self, request, obj=None):
        return False


class DisputeInline(admin.TabularInline):
    """Disputes of the payment, evidence due date first: staff answer the bank through the gateway."""

    model = Dispute
    fk_name = "payment"
    fields = readonly_fields = DISPUTE_FIELDS
    extra = 0
    can_delete = False
    verbose_name_plural = _("disputes (chargebacks)")

    def has_add_permission(self, request, obj=None):
        return False


class RefundForm(forms.Form):
    amount = MoneyFormField(label=_("Amount to refund"), min_value=Decimal("0.01"))


class OnlinePaymentMixin:
    """Added to the ledger's PaymentAdmin: gateway sections and "Refund through the gateway"."""

    online_readonly = ("gateway", "gateway_payment_id")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields + tuple(f for f in self.online_readonly if f not in fields)

    def get_inlines(self, request, obj):
        return (*super().get_inlines(request, obj), DisputeInline, CheckoutInline, GatewayEventInline)

    def get_urls(self):
        extra = [
            path(
                "<int:payment_id>/refund-online/",
                self.admin_site.admin_view(self.refund_online_view),
                name="billing_payment_refund_online",
            )
        ]
        return extra + super().get_urls()

    @admin.display(description=_("actions"))
    def money_links(self, obj):
        """The ledger's links, plus "Refund through the gateway" for money taken online."""
        base = super().money_links(obj) if hasattr(super(), "money_links") else ""
        if not (obj.gateway and obj.gateway_payment_id):
            return base
        link = format_html(
            '<a href="{}">{}</a>',
            reverse("admin:billing_payment_refund_online", args=[obj.pk]),
            _("Refund through %(gateway)s") % {"gateway": obj.gateway},
        )
        return format_html("{} · {}", base, link) if base else link

    @admin.action(description=_("Sandbox: the payer's bank opens a dispute"))
    def open_dispute_sandbox(self, request, queryset):
        call_service_for_each(
            self, request, lambda p: open_sandbox_dispute(payment=p), queryset,
            _("%(count)d sandbox dispute(s) opened.")
        )

    @admin.action(description=_("Sandbox: close the dispute as won"))
    def win_dispute_sandbox(self, request, queryset):
        call_service_for_each(
            self, request, lambda p: close_sandbox_dispute(payment=p, won=True), queryset,
            _("%(count)d dispute(s) won.")
        )

    @admin.action(description=_("Sandbox: close the dispute as lost"))
    def lose_dispute_sandbox(self, request, queryset):
        call_service_for_each(
            self, request, lambda p: close_sandbox_dispute(payment=p, won=False), queryset,
            _("%(count)d dispute(s) lost.")
        )

    @admin.action(description=_("Sandbox: the latest refund fails"))
    def fail_refund_sandbox(self, request, queryset):
        def fail(payment):
            refund = payment.refunds.counted().exclude(gateway_refund_id=None).order_by("-pk").first()
            if refund is None:
                raise ValidationError(_("No refund of this payment can fail."))
            fail_sandbox_refund(refund=refund)

        call_service_for_each(self, request, fail, queryset, _("%(count)d sandbox refund(s) failed."))

    @admin.action(description=_("Refund through the payment gateway (full or partial)"))
    def refund_through_gateway(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose one payment to refund."), messages.ERROR)
            return None
        return redirect("admin:billing_payment_refund_online", payment_id=queryset.get().pk)

    def refund_online_view(self, request, payment_id: int):
        if not self.has_change_permission(request):
            raise PermissionDenied
        payment = get_object_or_404(Payment, pk=payment_id)
        left = payment.amount - payment.refunded_amount
        form = RefundForm(request.POST or None, initial={"amount": left})
        if request.method == "POST" and form.is_valid():
            try:
                refund = refund_online_payment(
                    payment=payment, amount=form.cleaned_data["amount"], refunded_by=request.user
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except GatewayError as exc:
                form.add_error(None, exc.reason)
            else:
                self.message_user(
                    request,
                    _("Refunded %(amount)s %(cur)s through %(gw)s (%(id)s).")
                    % {
                        "amount": refund.amount,
                        "cur": refund.currency,
                        "gw": payment.gateway,
                        "id": refund.gateway_refund_id,
                    },
                )
                return redirect("admin:billing_payment_change", payment.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Refund payment %(n)s") % {"n": payment},
            "payment": payment,
            "left": left,
            "form": form,
            "opts": Payment._meta,
        }
        return TemplateResponse(request, "admin/billing/online/refund.html", context)


def _install_payment_admin():
    """Extend the ledger's PaymentAdmin in place of editing it; register a plain one if it is absent."""
    base = type(admin.site._registry[Payment]) if admin.site.is_registered(Payment) else admin.ModelAdmin
    if admin.site.is_registered(Payment):
        admin.site.unregister(Payment)
    base_actions = tuple(getattr(base, "actions", None) or ())

    class PaymentAdmin(OnlinePaymentMixin, base):
        actions = (
            *base_actions,
            "refund_through_gateway",
            "open_dispute_sandbox",
            "win_dispute_sandbox",
            "lose_dispute_sandbox",
            "fail_refund_sandbox",
        )
        if base is admin.ModelAdmin:
            list_display = ("number", "customer", "amount", "status", "method", "gateway", "paid_on")
            list_filter = ("status", "method", "gateway")
            search_fields = ("number", "gateway_payment_id", "customer__display_name")
            list_select_related = ("customer",)

    admin.site.register(Payment, PaymentAdmin)


_install_payment_admin()


class CheckoutLineInline(admin.TabularInline):
    model = CheckoutLine
    fields = ("invoice", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CheckoutAttempt)
class CheckoutAttemptAdmin(admin.ModelAdmin):
    list_display = ("token", "payer", "amount", "currency", "method", "status", "gateway", "created_at")
    list_filter = ("status", "method", "gateway")
    search_fields = ("token", "gateway_intent_id", "payer__display_name", "payment__number")
    list_select_related = ("payer",)
    readonly_fields = [f.name for f in CheckoutAttempt._meta.fields if f.name != "client_secret"]
    exclude = ("client_secret",)
    inlines = (CheckoutLineInline,)
    actions = ("settle_sandbox", "fail_sandbox")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _settle(self, request, queryset, succeed):
        done = 0
        for attempt in queryset:
            try:
                settle_sandbox_payment(attempt=attempt, succeed=succeed)
                done += 1
            except (ValidationError, GatewayError) as exc:
                text = " ".join(getattr(exc, "messages", [getattr(exc, "reason", "")]))
                self.message_user(request, f"{attempt.token}: {text}", messages.ERROR)
        if done:
            self.message_user(request, _("%(n)d sandbox bank payment(s) updated.") % {"n": done})

    @admin.action(description=_("Sandbox: settle the processing bank payment"))
    def settle_sandbox(self, request, queryset):
        self._settle(request, queryset, True)

    @admin.action(description=_("Sandbox: the bank returns the processing payment"))
    def fail_sandbox(self, request, queryset):
        self._settle(request, queryset, False)


@admin.register(GatewayEvent)
class GatewayEventAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("event_id", "type", "gateway", "object_id", "received_at", "applied_at", "outcome")
    # "applied: empty" lists the events still to apply (docs/operations.md: the re-queue beat)
    list_filter = (("applied_at", admin.EmptyFieldListFilter), "type", "gateway")
    search_fields = ("event_id", "object_id")
    list_select_related = ("payment",)
    readonly_fields = (
        "gateway",
        "event_id",
        "type",
        "object_id",
        "payload",
        "received_at",
        "applied_at",
        "outcome",
        "attempt",
        "payment",
    )


@admin.register(Dispute)
class DisputeAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: disputes are answered at the gateway; the ledger follows its events."""

    list_display = ("gateway_dispute_id", "payment", "amount", "currency", "status", "reason", "evidence_due_by",
                    "fee", "outcome")
    list_filter = ("status", "outcome", "gateway", "reason")
    search_fields = ("gateway_dispute_id", "payment__number", "payment__customer__display_name")
    list_select_related = ("payment",)
    # open ones first, soonest evidence deadline on top
    ordering = (F("closed_on").desc(nulls_first=True), F("evidence_due_by").asc(nulls_last=True), "-pk")
    fields = readonly_fields = ("payment", "gateway", *DISPUTE_FIELDS, "created_at", "updated_at")


@admin.register(SavedPaymentMethod)
class SavedPaymentMethodAdmin(admin.ModelAdmin):
    list_display = ("__str__", "customer", "kind", "gateway", "created_at")
    list_filter = ("kind", "gateway")
    search_fields = ("customer__display_name", "gateway_method_id", "last4")
    list_select_related = ("customer",)
    readonly_fields = (
        "customer",
        "gateway",
        "gateway_customer_id",
        "gateway_method_id",
        "kind",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "saved_by",
        "created_at",
    )

    def has_add_permission(self, request):
        return False
