"""Django app config of the reconciliation (reports, their lines and per-commitment totals)."""

from django.apps import AppConfig


class ReconcileConfig(AppConfig):
    name = "syncapp.reconcile"
    label = "reconcile"
    verbose_name = "Reconciliation"
