"""URLs of the alerts page, mounted at /alerts/ (global names, like the dashboard's)."""

from django.urls import path

from syncapp.alerts import views

urlpatterns = [
    path("settings/", views.alert_settings, name="alert-settings"),
]
