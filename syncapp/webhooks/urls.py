"""Webhook endpoints, mounted at /webhooks/."""

from django.urls import path

from syncapp.webhooks import views

urlpatterns = [
    path("xero/", views.xero, name="webhook-xero"),
]
