"""Integrations (Admins only): the list, add one, rename one, remove one (after typing its short
name). Each side is then connected on the Connections page of that integration.

Thin: the forms check the input, `syncapp.connections.integrations` makes the change and writes
the audit entry.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from syncapp.connections import integrations as service
from syncapp.connections.models import Connection, Integration, Provider
from syncapp.connections.services import connection_problem
from syncapp.core.roles import admin_required
from syncapp.dashboard.views.common import SESSION_KEY, show_integration


class IntegrationForm(forms.Form):
    label = forms.CharField(
        label="Name",
        max_length=service.LABEL_LENGTH,
        help_text="What people see in the switcher, such as “Northwind AU”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. Northwind AU"}),
    )
    name = forms.CharField(
        label="Short name",
        required=False,
        max_length=service.NAME_LENGTH,
        help_text="Lower-case letters, digits and hyphens, used in links and commands "
        "(--integration). Left empty, it is made from the name.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "e.g. northwind-au", "spellcheck": "false"}
        ),
    )


class RemoveForm(forms.Form):
    confirm = forms.CharField(label="Type the short name to confirm", max_length=service.NAME_LENGTH)


def _connections_url(integration: Integration) -> str:
    return f"{reverse('connections')}?{urlencode({'integration': integration.name})}"


def _rows(integrations: list[Integration]) -> list[dict]:
    connections = Connection.objects.filter(integration__in=integrations)
    found = {(c.integration_id, c.provider): c for c in connections}
    return [
        {
            "integration": integration,
            "sides": [(p.label, found.get((integration.pk, p.value))) for p in (Provider.XERO, Provider.PROCORE)],
            "ready": connection_problem(integration) is None,
            "form": IntegrationForm(
                initial={"label": integration.display_name, "name": integration.name}, prefix=f"i{integration.pk}"
            ),
        }
        for integration in integrations
    ]


def _page(request: HttpRequest, *, add_form: IntegrationForm, status: int = 200, errors: dict | None = None):
    integrations = list(Integration.objects.order_by("name"))
    rows = _rows(integrations)
    for row in rows:
        bound = (errors or {}).get(row["integration"].pk)
        if bound is not None:
            row["form"] = bound
    return render(request, "dashboard/integrations.html", {"rows": rows, "add_form": add_form}, status=status)


@require_GET
@admin_required
def integration_list(request: HttpRequest) -> HttpResponse:
    return _page(request, add_form=IntegrationForm(prefix="add"))


@require_POST
@admin_required
def integration_add(request: HttpRequest) -> HttpResponse:
    form = IntegrationForm(request.POST, prefix="add")
    if form.is_valid():
        try:
            integration = service.create_integration(
                label=form.cleaned_data["label"], name=form.cleaned_data["name"], actor=request.user
            )
        except service.IntegrationRefused as exc:
            form.add_error(None, str(exc))
        else:
            show_integration(request, integration)
            messages.success(
                request,
                f"Added “{integration.display_name}”. Now connect its Xero organisation and its Procore company.",
            )
            return redirect(_connections_url(integration))
    return _page(request, add_form=form, status=400)


@require_POST
@admin_required
def integration_rename(request: HttpRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    form = IntegrationForm(request.POST, prefix=f"i{integration.pk}")
    if form.is_valid():
        try:
            service.rename_integration(
                integration=integration,
                label=form.cleaned_data["label"],
                name=form.cleaned_data["name"] or integration.name,
                actor=request.user,
            )
        except service.IntegrationRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved: “{integration.display_name}” ({integration.name}).")
            return redirect("integrations")
    return _page(request, add_form=IntegrationForm(prefix="add"), status=400, errors={integration.pk: form})


@require_http_methods(["GET", "POST"])
@admin_required
def integration_remove(request: HttpRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    form = RemoveForm(request.POST or None)
    busy = service.busy_with(integration)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["confirm"].strip() != integration.name:
            form.add_error("confirm", f"Type {integration.name} exactly to remove this integration.")
        else:
            try:
                warnings = service.remove_integration(integration=integration, actor=request.user)
            except service.IntegrationRefused as exc:
                messages.error(request, str(exc))
                return redirect("integration-remove", pk=integration.pk)
            if request.session.get(SESSION_KEY) == pk:
                del request.session[SESSION_KEY]
            messages.success(request, f"Removed “{integration.display_name}”.")
            for warning in warnings:
                messages.warning(request, warning)
            return redirect("integrations")
    status = 400 if request.method == "POST" else 200
    context = {"integration": integration, "form": form, "busy": busy}
    return render(request, "dashboard/integration_remove.html", context, status=status)
