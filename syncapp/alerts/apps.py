from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "syncapp.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        # Imported here, not at the top: it imports models, which load only once apps are ready.
        from syncapp.alerts import receivers

        receivers.connect()
