from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "syncapp.connections"
    label = "connections"
