"""URL map: the dashboard, login, and (when switched on) the sandbox Xero and Procore."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from syncapp.core import views as core_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", core_views.healthz, name="healthz"),
    path("connections/", include("syncapp.connections.urls")),
    path("reconciliation/", include("syncapp.reconcile.urls")),
    path("webhooks/", include("syncapp.webhooks.urls")),
    path("alerts/", include("syncapp.alerts.urls")),
    path("", include("syncapp.dashboard.urls")),
]

# Django's admin is not routed (/admin/ is a 404): Admins work in the dashboard's own pages.
handler403 = "syncapp.core.errors.permission_denied"
handler404 = "syncapp.core.errors.page_not_found"
handler500 = "syncapp.core.errors.server_error"

if settings.SANDBOX_ENABLED:
    urlpatterns += [
        path("sandbox/xero/", include("syncapp.sandbox.xero.urls")),
        path("sandbox/procore/", include("syncapp.sandbox.procore.urls")),
        path("sandbox/", include("syncapp.sandbox.urls")),
    ]
