"""Settings of an integration: the field mapping in force (everyone with a role sees it), the
defaults an Admin may change (payment method, how far back the first sync reads), and the
schedule of its runs (with the Resume schedule button, also shown on Home)."""

import re

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from syncapp.core.roles import admin_required, finance_required, is_admin
from syncapp.dashboard.forms import ScheduleForm
from syncapp.dashboard.views.common import page_integration
from syncapp.sync import schedules, services
from syncapp.sync.company_currency import company_currency
from syncapp.sync.models import SyncSettings

# What each Procore payment field is filled from (sync.send.build_contract_payment writes them), as
# finance people name things.
FIELD_MAPPING = [
    ("origin_id", "Xero PaymentID (how the sync recognises its own payments)"),
    ("date", "Payment date in Xero (calendar date, no time-zone shift)"),
    ("amount", "Payment amount in Xero, two decimals"),
    ("invoice_number", "The bill's invoice number in Xero, as Xero has it"),
    ("invoice_date", "The bill's date in Xero"),
    ("check_number", "The payment's reference in Xero (cheque or bank reference)"),
    ("payment_method", "This integration's default, set above"),
    ("requisition_id", "The matched Procore subcontractor invoice, when there is one"),
    ("notes", "“Xero payment <PaymentID>, batch <BatchPaymentID>”"),
    ("origin_data", "Xero PaymentID, InvoiceID and last update time"),
]


class SettingsForm(forms.ModelForm):
    # Longer than the column so that "dollars" gets the ISO-code message, not a length one.
    company_currency = forms.CharField(
        required=False,
        max_length=20,
        label="Procore company's currency",
        help_text="Used where Procore states no currency on a commitment (a single-currency company). "
        "Leave empty for the Xero organisation's base currency.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. AUD", "size": 4}),
    )

    class Meta:
        model = SyncSettings
        fields = ["payment_method", "start_date", "company_currency"]
        labels = {"payment_method": "Payment method in Procore", "start_date": "Sync payments changed since"}
        help_texts = {"start_date": "Leave empty to read every payment in Xero on the first run."}
        widgets = {"start_date": forms.DateInput(attrs={"type": "date"})}

    def clean_company_currency(self) -> str:
        code = self.cleaned_data["company_currency"].strip().upper()
        if code and not re.fullmatch(r"[A-Z]{3}", code):
            raise forms.ValidationError("Enter a three-letter ISO currency code, such as AUD or USD.")
        return code


@finance_required
def integration_settings(request: HttpRequest) -> HttpResponse:
    _, integration = page_integration(request)
    current = SyncSettings.objects.filter(integration=integration).first() if integration else None
    form = SettingsForm(request.POST or None, instance=current or SyncSettings())
    if request.method == "POST":
        if not is_admin(request.user):
            raise PermissionDenied("Only Admins may change settings.")
        if integration and form.is_valid():
            services.update_settings(
                integration=integration,
                payment_method=form.cleaned_data["payment_method"],
                start_date=form.cleaned_data["start_date"],
                company_currency=form.cleaned_data["company_currency"],
                actor=request.user,
            )
            messages.success(request, "Settings saved: the next run uses them.")
            return redirect(f"{request.path}?integration={integration.name}")
    return _render(request, integration=integration, current=current, form=form)


def _render(request: HttpRequest, *, integration, current, form=None, schedule_form=None) -> HttpResponse:
    return render(
        request,
        "dashboard/settings.html",
        {
            "integration": integration,
            "form": form or SettingsForm(instance=current or SyncSettings()),
            "schedule_form": schedule_form or ScheduleForm.for_settings(current),
            "schedule": current or SyncSettings(),
            "schedule_zone": schedules.zone_name(current or SyncSettings()),
            "next_run": schedules.next_run_at(integration=integration) if integration else None,
            "mapping": FIELD_MAPPING,
            "can_edit": is_admin(request.user),
            "currency": company_currency(integration) if integration else None,
        },
    )


def _back_to(name: str, integration) -> HttpResponse:
    return redirect(f"{reverse(name)}?{urlencode({'integration': integration.name})}")


@require_POST
@admin_required
def schedule_settings(request: HttpRequest) -> HttpResponse:
    """Save an integration's schedule; `sync.schedules` puts it in force at the next scheduler tick."""
    _, integration = page_integration(request)
    if integration is None:
        return redirect("settings")
    current = SyncSettings.objects.filter(integration=integration).first()
    form = ScheduleForm.for_settings(current, data=request.POST)
    if not form.is_valid():
        return _render(request, integration=integration, current=current, schedule_form=form)
    saved = schedules.update_schedule(
        integration=integration,
        schedule=form.cleaned_data["schedule"],
        every_hours=form.cleaned_data["every_hours"],
        daily_at=form.cleaned_data["daily_at"],
        zone=form.cleaned_data["zone"],
        pause_after_failures=form.cleaned_data["pause_after_failures"],
        actor=request.user,
    )
    if saved.schedule == SyncSettings.ScheduleMode.OFF:
        messages.success(request, "Schedule off: runs start only when someone starts one.")
    elif saved.schedule_paused_at:
        messages.warning(request, "Schedule saved, but it is paused: resume it to start scheduled runs again.")
    else:
        messages.success(request, "Schedule saved: it is in force from now on.")
    return _back_to("settings", integration)


@require_POST
@admin_required
def schedule_resume(request: HttpRequest) -> HttpResponse:
    """The Resume schedule button (Home, Settings): an Admin starts a paused schedule again."""
    _, integration = page_integration(request)
    if integration is None:
        return redirect("home")
    if schedules.resume_schedule(integration=integration, actor=request.user):
        messages.success(request, "Schedule resumed: the next scheduled run starts at its time.")
    else:
        messages.info(request, "The schedule was not paused.")
    return _back_to("settings" if request.POST.get("back") == "settings" else "home", integration)
