from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.cache import patch_cache_control

# What Stripe.js needs (Stripe's security guide, "Content Security Policy"): its script, its API,
# and the frames of the Payment Element and 3-D Secure.
STRIPE_CSP_SOURCES = {
    "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
}


class RejectNulBytesMiddleware:
    """Answer 400 to a URL or query string containing a NUL byte.

    PostgreSQL cannot store or compare strings with NUL, so such a value reaching a filter or a
    search (any admin list, `?q=%00`) would be a server error. No legitimate link carries one.
    Form fields are covered by Django's own ProhibitNullCharactersValidator.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest("This address contains a character that isn't allowed (NUL).")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, letting Stripe's origins in only while Stripe is configured.

    Read per request (not once at start) so a deployment without STRIPE_PUBLISHABLE_KEY, the sandbox
    demo, never allows a third-party script, and tests can switch Stripe on with override_settings.
    """

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and settings.STRIPE_PUBLISHABLE_KEY:
            update = {key: list(values) for key, values in STRIPE_CSP_SOURCES.items()}
            for key, values in (parts.update or {}).items():
                update[key] = [*update.get(key, []), *([values] if isinstance(values, str) else values)]
            parts.update = update
        return parts


class PrivateCacheMiddleware:
    """`Cache-Control: private, no-store` on every response to a logged-in user that sets none itself.

    Pages and PDFs of a logged-in customer hold their invoices and balances: no shared proxy may keep
    them and no browser may show them from its cache after logout. Static files never get here
    (WhiteNoise answers them before this middleware), so they stay cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
