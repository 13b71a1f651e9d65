from django.apps import AppConfig


class SandboxXeroConfig(AppConfig):
    name = "syncapp.sandbox.xero"
    label = "sandbox_xero"
    verbose_name = "Sandbox Xero"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from syncapp.sandbox.xero import webhooks
        from syncapp.sandbox.xero.models import Payment

        # Xero tells a subscribed app when a bill changes; here, when its payments do.
        post_save.connect(webhooks.payment_saved, sender=Payment, dispatch_uid="sandbox-xero-webhook")
