from django.apps import AppConfig
from django.db.models.signals import post_save


class SandboxXeroConfig(AppConfig):
    name = "syncapp.sandbox.xero"
    label = "sandbox_xero"
    verbose_name = "Sandbox Xero"

    def ready(self) -> None:
        # Models may be imported only once the app registry is ready, i.e. here, not at the top.
        from syncapp.sandbox.xero import webhooks
        from syncapp.sandbox.xero.models import Payment

        # Xero tells a subscribed app when a bill changes; here, when its payments do.
        post_save.connect(webhooks.payment_saved, sender=Payment, dispatch_uid="sandbox-xero-webhook")
