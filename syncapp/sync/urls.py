"""URLs of the sync engine: the Get All Payments endpoint and a run's page and status."""

from django.urls import path

from syncapp.sync import views

urlpatterns = [
    path("sync/start/", views.start, name="sync-start"),
    path("sync/runs/<int:run_id>/", views.run_page, name="sync-run"),
    path("sync/runs/<int:run_id>/status/", views.run_status_view, name="sync-run-status"),
]
