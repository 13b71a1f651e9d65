from django.urls import path

from syncapp.core import views

urlpatterns = [
    path("", views.home, name="home"),
]
