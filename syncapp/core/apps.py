from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "syncapp.core"
    label = "core"
    verbose_name = "Core"
