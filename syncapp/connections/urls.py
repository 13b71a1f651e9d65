"""URLs of the Connections pages, mounted at /connections/.

Names are global (no namespace) because the shared navigation links to `connections`.
The callback paths are the redirect URIs registered with Xero and Procore:
SITE_URL + /connections/xero/callback/ and /connections/procore/callback/.
"""

from django.urls import path

from syncapp.connections import views

urlpatterns = [
    path("", views.index, name="connections"),
    path("xero/connect/", views.connect, {"provider": "xero"}, name="connections-xero-connect"),
    path("xero/callback/", views.callback, {"provider": "xero"}, name="connections-xero-callback"),
    path("procore/connect/", views.connect, {"provider": "procore"}, name="connections-procore-connect"),
    path("procore/callback/", views.callback, {"provider": "procore"}, name="connections-procore-callback"),
    path("<int:pk>/choose/", views.choose, name="connections-choose"),
    path("<int:pk>/test/", views.test, name="connections-test"),
    path("<int:pk>/disconnect/", views.disconnect, name="connections-disconnect"),
]
