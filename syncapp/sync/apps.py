from django.apps import AppConfig
from django.db.models.signals import post_delete


class SyncConfig(AppConfig):
    name = "syncapp.sync"
    label = "sync"

    def ready(self) -> None:
        # Imported here, not at the top: they import models, which load only once apps are ready.
        from syncapp.sync import schedules, signals
        from syncapp.sync.models import SyncSettings

        # A run's end may pause its integration's schedule (after N failed runs in a row).
        signals.run_ended.connect(schedules.on_run_ended, dispatch_uid="sync.schedules.on_run_ended")
        post_delete.connect(schedules.on_settings_deleted, sender=SyncSettings, dispatch_uid="sync.schedules.deleted")
