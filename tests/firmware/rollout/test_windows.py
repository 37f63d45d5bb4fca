"""Maintenance windows in the station's IANA zone, across midnight and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from firmware.rollout.model import MaintenanceWindow
from firmware.rollout.windows import in_window, local_time

NIGHT = MaintenanceWindow(time(22), time(5))  # crosses midnight


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_no_windows_means_any_time() -> None:
    assert in_window((), utc(2026, 3, 2, 12), "Europe/Berlin")


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (utc(2026, 1, 14, 20, 59), False),  # 21:59 in Berlin (UTC+1)
        (utc(2026, 1, 14, 21, 0), True),  # 22:00 opens
        (utc(2026, 1, 14, 23, 30), True),  # 00:30 the next day
        (utc(2026, 1, 15, 3, 59), True),  # 04:59
        (utc(2026, 1, 15, 4, 0), False),  # 05:00 closes
    ],
)
def test_a_window_across_midnight_in_the_station_zone(moment: datetime, inside: bool) -> None:
    assert in_window((NIGHT,), moment, "Europe/Berlin") is inside


def test_the_same_instant_is_inside_for_one_zone_and_outside_for_another() -> None:
    moment = utc(2026, 1, 14, 22, 30)  # 23:30 Berlin, 17:30 New York
    assert in_window((NIGHT,), moment, "Europe/Berlin")
    assert not in_window((NIGHT,), moment, "America/New_York")


def test_a_window_follows_the_wall_clock_across_spring_forward() -> None:
    # Berlin: 2026-03-29 02:00 CET -> 03:00 CEST. A 01:00-04:00 window is 2 real hours that night.
    window = MaintenanceWindow(time(1), time(4))
    zone = "Europe/Berlin"
    inside = [
        hour
        for hour in range(24 * 4)
        if in_window((window,), utc(2026, 3, 28, 22) + timedelta(minutes=15 * hour), zone)
    ]
    assert len(inside) == 8  # 00:00-02:00 UTC = 01:00 CET .. 04:00 CEST
    assert local_time(utc(2026, 3, 29, 1, 59), zone).hour == 3
    assert not in_window((window,), utc(2026, 3, 29, 2, 0), zone)  # 04:00 CEST


def test_a_window_follows_the_wall_clock_across_fall_back() -> None:
    # Berlin: 2026-10-25 03:00 CEST -> 02:00 CET. A 01:00-04:00 window is 4 real hours that night.
    window = MaintenanceWindow(time(1), time(4))
    zone = "Europe/Berlin"
    steps = [utc(2026, 10, 24, 22) + timedelta(minutes=15 * n) for n in range(4 * 8)]
    assert sum(in_window((window,), moment, zone) for moment in steps) == 16
    assert in_window((window,), utc(2026, 10, 25, 0, 30), zone)  # 02:30 CEST
    assert in_window((window,), utc(2026, 10, 25, 1, 30), zone)  # 02:30 CET, the repeated hour


def test_weekdays_name_the_day_a_window_opens_on() -> None:
    friday_night = MaintenanceWindow(time(22), time(5), weekdays=(4,))
    assert in_window((friday_night,), utc(2026, 1, 16, 23), None)  # Friday 23:00 UTC
    assert in_window((friday_night,), utc(2026, 1, 17, 3), None)  # Saturday 03:00 still Friday's
    assert not in_window((friday_night,), utc(2026, 1, 17, 23), None)  # Saturday night
    assert not in_window((friday_night,), utc(2026, 1, 16, 3), None)  # Friday early: Thursday's


def test_a_window_whose_start_equals_its_end_is_the_whole_day() -> None:
    sundays = MaintenanceWindow(time(0), time(0), weekdays=(6,))
    assert in_window((sundays,), utc(2026, 1, 18, 13), None)
    assert not in_window((sundays,), utc(2026, 1, 19, 13), None)


def test_any_of_several_windows_will_do() -> None:
    windows = (MaintenanceWindow(time(1), time(2)), MaintenanceWindow(time(13), time(14)))
    assert in_window(windows, utc(2026, 1, 14, 13, 30), None)
    assert not in_window(windows, utc(2026, 1, 14, 12, 30), None)


@pytest.mark.parametrize("zone", [None, "", "Mars/Olympus", "../../etc/passwd", "UTC"])
def test_a_missing_or_unknown_zone_means_utc(zone: str | None) -> None:
    assert in_window((NIGHT,), utc(2026, 1, 14, 23), zone)
    assert not in_window((NIGHT,), utc(2026, 1, 14, 12), zone)


def test_a_naive_clock_is_read_as_utc() -> None:
    assert in_window((NIGHT,), datetime(2026, 1, 14, 23), None)
