"""Maintenance windows in a station's own IANA time zone (zoneinfo).

The clock is turned into the station's wall time first, so daylight-saving changes need no
special case: on a spring-forward night the skipped hour simply never shows on the wall clock,
and on a fall-back night the repeated hour is inside the window twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firmware.rollout.policy import MaintenanceWindow


@lru_cache(maxsize=512)
def station_zone(name: str | None) -> tzinfo:
    """The zone named ``name``; UTC for None or a name zoneinfo does not know."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_time(now: datetime, zone: str | None) -> datetime:
    """``now`` (aware, or naive UTC) on the station's wall clock."""
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return aware.astimezone(station_zone(zone))


def window_contains(window: MaintenanceWindow, local: datetime) -> bool:
    """Whether the wall-clock moment ``local`` lies in ``window``.

    A window crossing midnight belongs to the day it opens on: a Friday 22:00-05:00 window
    covers Saturday 03:00.
    """
    clock, day = local.time().replace(tzinfo=None), local.weekday()
    if window.start == window.end:
        return day in window.weekdays
    if window.start < window.end:
        return day in window.weekdays and window.start <= clock < window.end
    if clock >= window.start:
        return day in window.weekdays
    return clock < window.end and (day - 1) % 7 in window.weekdays


def in_window(windows: Iterable[MaintenanceWindow], now: datetime, zone: str | None) -> bool:
    """Whether ``now`` is inside one of ``windows`` in ``zone``; no windows means any time."""
    windows = tuple(windows)
    if not windows:
        return True
    local = local_time(now, zone)
    return any(window_contains(window, local) for window in windows)
