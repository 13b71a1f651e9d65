"""The webhook endpoint Xero posts to: SITE_URL/webhooks/xero/ (registered in Xero's developer portal).

Xero's rules for it (https://developer.xero.com/documentation/webhooks/configuring-your-server):
answer within 5 seconds, 200 for a correctly signed payload (the "Intent to receive" check sends
ones with no events), 401 for any other, no body, no cookies. So the view checks the signature,
stores the events and returns; Xero and Procore are called later, by the task it queues.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from syncapp.webhooks import services
from syncapp.webhooks.xero import signed_by


@csrf_exempt  # Xero signs the body instead
@login_not_required  # Xero is no user
@require_POST
def xero(request: HttpRequest) -> HttpResponse:
    body = request.body  # the raw bytes: the signature is over them, not over parsed JSON
    if not signed_by(body, request.headers.get("x-xero-signature", ""), settings.XERO_WEBHOOK_KEY):
        return HttpResponse(status=401)
    services.receive(body)
    return HttpResponse(status=200)
