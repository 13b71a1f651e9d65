"""/healthz: liveness for load balancers and monitors; the details for Admins."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from syncapp.core import health
from syncapp.core.roles import is_admin


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Anyone (and Finance): "ok", or 503 when the database does not answer; nothing more, so the
    page tells a stranger nothing. A logged-in Admin: the JSON report, 503 when anything is
    unhealthy (a dead worker, a connection that needs reconnecting)."""
    # The database first: while it is down, even reading the session to learn who asks would fail.
    if not health.database_ok():
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    if not is_admin(request.user):
        return HttpResponse("ok\n", content_type="text/plain")
    body, healthy = health.report()
    return JsonResponse(body, status=200 if healthy else 503)
