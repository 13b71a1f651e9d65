"""URLs of the reconciliation pages, mounted at /reconciliation/."""

from django.urls import path

from syncapp.reconcile import views

urlpatterns = [
    path("", views.reconciliation, name="reconciliation"),
    path("start/", views.start, name="reconciliation-start"),
    path("reports/<int:report_id>/progress/", views.progress, name="reconciliation-progress"),
    path("reports/<int:report_id>/download.<str:fmt>", views.download, name="reconciliation-download"),
]
