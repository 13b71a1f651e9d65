"""Django app config of the dashboard (views, templates tags and read-only selectors; no models)."""

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "syncapp.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
