from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "syncapp.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox (shared)"
