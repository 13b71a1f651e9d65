"""A page that says the sandbox is on and what it holds."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse


@login_not_required
def index(request):
    return JsonResponse({"sandbox": "on", "services": ["xero", "procore"]})
