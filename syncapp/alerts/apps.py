from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "syncapp.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from syncapp.alerts import receivers

        receivers.connect()
