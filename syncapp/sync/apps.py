from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "syncapp.sync"
    label = "sync"

    def ready(self) -> None:
        from syncapp.sync import schedules, signals

        # A run's end may pause its integration's schedule (after N failed runs in a row).
        signals.run_ended.connect(schedules.on_run_ended, dispatch_uid="sync.schedules.on_run_ended")
