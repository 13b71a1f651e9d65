"""The error pages (403, 404, 500): the site's look and navigation, why, and where to go next."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from syncapp.core.roles import admin_names


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: the reason the view gave (every PermissionDenied here carries a sentence for people) and,
    to a signed-in user, the names of the Admins who can help."""
    reason = str(exception) if isinstance(exception, PermissionDenied) and exception.args else ""
    signed_in = request.user.is_authenticated
    context = {"reason": reason, "admins": admin_names() if signed_in else []}
    return render(request, "403.html", context, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"path": request.path}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: rendered without the request's context (no session, user or database): the error may be
    the database itself."""
    return HttpResponseServerError(loader.get_template("500.html").render())


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a form whose CSRF token was missing or stale (a page left open across a log-out, say):
    the same page as any refusal, with what to do. Django's reason stays in the log only."""
    message = "The form was out of date, so nothing was changed. Go back, reload the page and try again."
    context = {"reason": message, "admins": [], "title": "This form has expired"}
    return render(request, "403.html", context, status=403)
