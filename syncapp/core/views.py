"""The home page. The dashboard issue turns it into the per-integration overview."""

from django.shortcuts import render

from syncapp.core.roles import finance_required


@finance_required
def home(request):
    return render(request, "core/home.html")
