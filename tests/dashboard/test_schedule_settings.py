"""The schedule on the Settings page (Admins set it, everyone sees it), the skipped line in the run
history, and the paused-schedule notice on Home with its Resume schedule button."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from syncapp.connections.models import Integration
from syncapp.core.models import AuditEntry
from syncapp.sync import schedules, tasks
from syncapp.sync.models import RunState, SyncRun, SyncSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration() -> Integration:
    return Integration.objects.create(name="northwind")


def schedule_row(integration: Integration) -> Schedule | None:
    return Schedule.objects.filter(name=f"sync-schedule-{integration.pk}").first()


def form(mode: str, **fields) -> dict:
    data = {
        "integration": "northwind",
        "schedule": mode,
        "every_hours": "6",
        "daily_at": "02:00",
        "zone": "Europe/London",
        "pause_after_failures": "3",
    }
    data.update(fields)
    return data


def pause(
    integration: Integration, reason: str = "3 runs failed in a row; the last one (run #7) said: Xero is not connected."
) -> None:
    schedules.update_schedule(
        integration=integration,
        schedule="daily",
        every_hours=6,
        daily_at=dt.time(2, 0),
        zone="Europe/London",
        pause_after_failures=3,
    )
    SyncSettings.objects.filter(integration=integration).update(
        schedule_paused_at=timezone.now(), schedule_paused_reason=reason
    )
    schedules.apply_schedule(sync_settings=SyncSettings.objects.get(integration=integration))


# --- Settings: the schedule form -----------------------------------------------------------------


def test_an_admin_sets_a_daily_schedule_and_the_q2_schedule_is_created(admin_client, admin_user, integration):
    response = admin_client.post(reverse("schedule-settings"), form("daily", daily_at="03:15", zone="Europe/London"))
    assert response.status_code == 302 and "integration=northwind" in response["Location"]

    row = schedule_row(integration)
    assert row.schedule_type == Schedule.DAILY and row.func == "syncapp.sync.tasks.scheduled_run"
    assert row.next_run.astimezone(ZoneInfo("Europe/London")).time() == dt.time(3, 15)
    saved = SyncSettings.objects.get(integration=integration)
    assert saved.schedule == "daily" and saved.schedule_timezone == "Europe/London"
    assert AuditEntry.objects.get(action="schedule.changed").actor == admin_user

    page = admin_client.get(response["Location"]).content.decode()
    assert "Schedule saved" in page and "Daily at 03:15 (Europe/London)" in page and "next run" in page


def test_an_admin_changes_it_to_every_few_hours_and_then_off(admin_client, integration):
    admin_client.post(reverse("schedule-settings"), form("daily"))
    admin_client.post(reverse("schedule-settings"), form("every_hours", every_hours="3"))
    row = schedule_row(integration)
    assert row.schedule_type == Schedule.MINUTES and row.minutes == 180
    assert Schedule.objects.filter(func="syncapp.sync.tasks.scheduled_run").count() == 1

    admin_client.post(reverse("schedule-settings"), form("off"))
    assert schedule_row(integration) is None
    page = admin_client.get(reverse("settings")).content.decode()
    assert "Off: runs start only when someone clicks Get All Payments" in page


def test_saving_a_paused_schedule_keeps_it_paused_until_resumed_and_off_ends_the_pause(admin_client, integration):
    pause(integration)
    response = admin_client.post(reverse("schedule-settings"), form("every_hours", every_hours="2"), follow=True)
    assert "it is paused: resume it" in response.content.decode()
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is not None
    assert schedule_row(integration) is None

    admin_client.post(reverse("schedule-settings"), form("off"))
    saved = SyncSettings.objects.get(integration=integration)
    assert saved.schedule_paused_at is None and saved.schedule_paused_reason == ""


def test_finance_cannot_set_the_schedule(finance_client, integration):
    response = finance_client.post(reverse("schedule-settings"), form("daily"))
    assert response.status_code == 403
    assert schedule_row(integration) is None and not SyncSettings.objects.exists()


def test_finance_sees_the_schedule_but_no_form(finance_client, integration):
    schedules.update_schedule(
        integration=integration,
        schedule="every_hours",
        every_hours=4,
        daily_at=dt.time(2, 0),
        zone="UTC",
        pause_after_failures=3,
    )
    page = finance_client.get(reverse("settings")).content.decode()
    assert "Every 4 hours" in page and "Pauses after 3 failed runs in a row" in page
    assert "Save schedule" not in page


def test_the_form_offers_the_company_timezone_defaulting_to_the_time_zone_setting(admin_client, integration, settings):
    settings.TIME_ZONE = "Australia/Sydney"
    page = admin_client.get(reverse("settings")).content.decode()
    assert '<option value="Australia/Sydney" selected>' in page
    assert 'value="02:00"' in page  # off-peak by default


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("zone", "Mars/Olympus_Mons", "Select a valid choice"),
        ("every_hours", "0", "greater than or equal to 1"),
        ("daily_at", "25:00", "Enter a valid time"),
        ("schedule", "weekly", "Select a valid choice"),
    ],
)
def test_an_invalid_schedule_is_refused_with_a_message_and_nothing_changes(
    admin_client, integration, field, value, message
):
    response = admin_client.post(reverse("schedule-settings"), form("daily", **{field: value}))
    assert response.status_code == 200 and message in response.content.decode()
    assert schedule_row(integration) is None and not SyncSettings.objects.exists()


# --- Run history: skipped ticks ------------------------------------------------------------------


def test_a_skipped_tick_shows_in_the_run_history_with_its_reason(finance_client, integration):
    pause_free = schedules.update_schedule(
        integration=integration,
        schedule="every_hours",
        every_hours=1,
        daily_at=dt.time(2, 0),
        zone="UTC",
        pause_after_failures=3,
    )
    assert pause_free.schedule_paused_at is None
    running = SyncRun.objects.create(integration=integration, trigger="button", state=RunState.RUNNING)
    tasks.scheduled_run(integration.pk)

    page = finance_client.get(reverse("runs")).content.decode()
    assert "Skipped" in page and "Scheduled" in page
    assert f"run #{running.pk} was still running; this scheduled run was not queued behind it" in page
    skipped = SyncRun.objects.get(state=RunState.SKIPPED)
    detail = finance_client.get(reverse("run", args=[skipped.pk])).content.decode()
    assert "Skipped" in detail and "The run stopped" not in detail


# --- Home: the paused schedule and its Resume button ---------------------------------------------


def test_home_says_the_schedule_is_paused_why_and_how_to_resume(admin_client, integration):
    pause(integration)
    page = admin_client.get(reverse("home")).content.decode()
    assert "The schedule is paused" in page
    assert "3 runs failed in a row; the last one (run #7) said: Xero is not connected." in page
    assert "Resume schedule" in page and reverse("schedule-resume") in page


def test_finance_sees_the_notice_without_the_button(finance_client, integration):
    pause(integration)
    page = finance_client.get(reverse("home")).content.decode()
    assert "The schedule is paused" in page and "an Admin can do it" in page
    assert "Resume schedule" not in page


def test_home_shows_no_notice_while_the_schedule_runs(admin_client, integration):
    schedules.update_schedule(
        integration=integration,
        schedule="daily",
        every_hours=6,
        daily_at=dt.time(2, 0),
        zone="UTC",
        pause_after_failures=3,
    )
    assert "The schedule is paused" not in admin_client.get(reverse("home")).content.decode()


def test_an_admin_resumes_the_schedule_with_the_button(admin_client, admin_user, integration):
    pause(integration)
    assert schedule_row(integration) is None

    response = admin_client.post(reverse("schedule-resume"), {"integration": "northwind"})

    assert response.status_code == 302 and response["Location"].startswith(reverse("home"))
    saved = SyncSettings.objects.get(integration=integration)
    assert saved.schedule_paused_at is None and saved.schedule_paused_reason == ""
    assert schedule_row(integration).schedule_type == Schedule.DAILY
    assert AuditEntry.objects.get(action="schedule.resumed").actor == admin_user
    page = admin_client.get(response["Location"]).content.decode()
    assert "Schedule resumed" in page and "The schedule is paused" not in page


def test_finance_cannot_resume_the_schedule(finance_client, integration):
    pause(integration)
    response = finance_client.post(reverse("schedule-resume"), {"integration": "northwind"})
    assert response.status_code == 403
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is not None
    assert schedule_row(integration) is None


def test_resume_only_answers_a_post(admin_client, integration):
    pause(integration)
    assert admin_client.get(reverse("schedule-resume"), {"integration": "northwind"}).status_code == 405
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is not None


def test_the_resume_button_needs_the_csrf_token(client, admin_user, integration):
    from django.test import Client

    pause(integration)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(reverse("schedule-resume"), {"integration": "northwind"}).status_code == 403
    assert SyncSettings.objects.get(integration=integration).schedule_paused_at is not None
