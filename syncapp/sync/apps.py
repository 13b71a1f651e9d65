from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "syncapp.sync"
    label = "sync"
