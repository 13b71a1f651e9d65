"""A moment people wait for is named by the minute it is over by, in the site's local time."""

import datetime as dt

from syncapp.core.times import minute_by

UTC = dt.UTC


def test_a_moment_inside_a_minute_is_named_by_the_next_minute(settings):
    settings.TIME_ZONE = "UTC"
    assert f"{minute_by(dt.datetime(2026, 12, 1, 18, 4, 11, tzinfo=UTC)):%H:%M}" == "18:05"
    assert f"{minute_by(dt.datetime(2026, 12, 1, 18, 4, 0, 500_000, tzinfo=UTC)):%H:%M}" == "18:05"
    assert f"{minute_by(dt.datetime(2026, 12, 1, 23, 59, 30, tzinfo=UTC)):%Y-%m-%d %H:%M}" == "2026-12-02 00:00"


def test_a_whole_minute_is_named_as_it_is(settings):
    settings.TIME_ZONE = "UTC"
    assert f"{minute_by(dt.datetime(2026, 12, 1, 18, 4, tzinfo=UTC)):%H:%M}" == "18:04"


def test_the_minute_is_the_sites_local_time(settings):
    settings.TIME_ZONE = "Australia/Sydney"  # UTC+11 in December
    assert f"{minute_by(dt.datetime(2026, 12, 1, 18, 4, 11, tzinfo=UTC)):%H:%M}" == "05:05"
