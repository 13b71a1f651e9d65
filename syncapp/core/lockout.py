"""Login throttling's two hooks into django-axes: whose address an attempt counts against
(`client_address`, settings.AXES_CLIENT_IP_CALLABLE), and the page a locked-out login gets: the
login form again, saying it is locked and until when (`locked_out`, settings.AXES_LOCKOUT_CALLABLE,
called for every attempt while the username or the address is locked, the right password included).
"""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials: dict | None = None):
    # Every attempt during the lockout restarts the cool-off (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT),
    # this one included, so the lock ends one cool-off from now.
    cool_off = settings.AXES_COOLOFF_TIME
    context = {
        "form": AuthenticationForm(request, initial={"username": request.POST.get("username", "")}),
        "next": request.POST.get("next", ""),
        "locked_minutes": max(1, round(cool_off.total_seconds() / 60)),
        "locked_until": timezone.localtime() + cool_off,
    }
    # 429 Too Many Requests: what it is, for scripts; people read the page.
    return render(request, "registration/login.html", context, status=429)


def client_address(request: HttpRequest) -> str:
    """The address the login limits count against.

    Behind PROXY_COUNT reverse proxies every request comes from the nearest proxy, so REMOTE_ADDR
    would lock everyone out together. Each proxy appends the address it saw to X-Forwarded-For:
    the entry PROXY_COUNT from the right was written by our outermost proxy and is the client's;
    entries further left come from the client itself and could be forged to dodge the limit.
    """
    if settings.PROXY_COUNT:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= settings.PROXY_COUNT:
            return hops[-settings.PROXY_COUNT]
    return request.META.get("REMOTE_ADDR", "")
