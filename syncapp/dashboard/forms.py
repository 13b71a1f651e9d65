"""Forms of the dashboard: the audit log's filters (GET) and the small action forms (POST). The
payments list's filters are a FilterSet (dashboard.filters)."""

import zoneinfo

from django import forms
from django.conf import settings

from syncapp.sync.models import SyncSettings


class ListFilterForm(forms.Form):
    """A list's filters, read from the URL. Invalid values are dropped, not shown as errors: a
    stale bookmark should still open the list."""

    def cleaned_or_empty(self) -> dict:
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in (None, "")}


class AuditFilterForm(ListFilterForm):
    """The audit log's filters: a date range, who (a username, or "(system)"), which action."""

    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
    user = forms.CharField(required=False, max_length=150, label="Who")
    action = forms.CharField(required=False, max_length=50)


class ReasonForm(forms.Form):
    """Ignoring a payment needs a reason a colleague can read later."""

    reason = forms.CharField(max_length=500, min_length=3, widget=forms.Textarea(attrs={"rows": 2}))


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ScheduleForm(forms.Form):
    """An integration's schedule (Settings page, Admins): off, every N hours, or daily at a time
    in the company's timezone; and after how many failed runs in a row it pauses."""

    schedule = forms.ChoiceField(choices=SyncSettings.ScheduleMode.choices, label="Run the sync")
    every_hours = forms.IntegerField(
        min_value=1, max_value=24, initial=6, label="Every how many hours", widget=forms.NumberInput(attrs={"size": 3})
    )
    daily_at = forms.TimeField(
        initial="02:00",
        label="Daily at",
        help_text="Off-peak is best: a run reads every payment changed since the last one.",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    zone = forms.ChoiceField(choices=_timezone_choices, label="In the company's timezone")
    pause_after_failures = forms.IntegerField(
        min_value=0,
        max_value=50,
        initial=3,
        label="Pause the schedule after this many failed runs in a row",
        help_text="0: never pause. A paused schedule starts no run until an Admin resumes it.",
        widget=forms.NumberInput(attrs={"size": 3}),
    )

    @classmethod
    def for_settings(cls, sync_settings: SyncSettings | None, data=None) -> "ScheduleForm":
        current = sync_settings or SyncSettings()
        initial = {
            "schedule": current.schedule,
            "every_hours": current.schedule_every_hours,
            "daily_at": current.schedule_daily_at,
            "zone": current.schedule_timezone or settings.TIME_ZONE,
            "pause_after_failures": current.pause_after_failures,
        }
        return cls(data, initial=initial)
