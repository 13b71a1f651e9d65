"""The page a locked-out login gets: the login form again, saying it is locked and until when.

django-axes calls `locked_out` (settings.AXES_LOCKOUT_CALLABLE) for every login attempt while the
username or the address is locked, the right password included.
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
        "form": AuthenticationForm(request),
        "next": request.POST.get("next", ""),
        "locked_minutes": max(1, round(cool_off.total_seconds() / 60)),
        "locked_until": timezone.localtime() + cool_off,
    }
    # 429 Too Many Requests: what it is, for scripts; people read the page.
    return render(request, "registration/login.html", context, status=429)
