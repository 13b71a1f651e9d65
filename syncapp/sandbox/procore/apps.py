from django.apps import AppConfig


class SandboxProcoreConfig(AppConfig):
    name = "syncapp.sandbox.procore"
    label = "sandbox_procore"
    verbose_name = "Sandbox Procore"
