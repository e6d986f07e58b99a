"""Gateway webhooks: verify, store once, apply after commit. No CSRF: the signature is the proof."""

import logging

from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.gateways import InvalidWebhook, get_gateway
from billing.services.online_payments import receive_gateway_event

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe (or the sandbox, signed alike) posts events here. Bad or stale signature: 400, nothing kept."""
    gateway = get_gateway()
    try:
        event = gateway.parse_webhook(
            payload=request.body, signature_header=request.headers.get("Stripe-Signature", "")
        )
    except InvalidWebhook as exc:
        logger.warning("Webhook refused: %s", exc.reason)
        return HttpResponseBadRequest("invalid signature")
    receive_gateway_event(event=event, gateway_name=gateway.name)
    return HttpResponse("ok")
