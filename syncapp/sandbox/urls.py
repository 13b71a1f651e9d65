"""Sandbox pages shared by both simulated services (an index of what is seeded)."""

from django.urls import path

from syncapp.sandbox import views

urlpatterns = [
    path("", views.index, name="sandbox-index"),
]
