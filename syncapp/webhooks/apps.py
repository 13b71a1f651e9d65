from django.apps import AppConfig

from syncapp.sync.signals import run_ended


class WebhooksConfig(AppConfig):
    name = "syncapp.webhooks"
    verbose_name = "Xero webhooks"

    def ready(self) -> None:
        # Imported here, not at the top: it imports models, which load only once apps are ready.
        from syncapp.webhooks import services

        # Events that came in while a run was going are handled once it ends.
        run_ended.connect(services.after_run, dispatch_uid="webhooks-after-run")
