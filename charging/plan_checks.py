"""Is the station doing what was planned? Pure checks of its answers against the plan.

- :func:`compare_composite`: a GetCompositeSchedule answer (1.6 ``GetCompositeSchedule.conf``
  or 2.0.1 ``GetCompositeScheduleResponse``, as JSON dicts) against the schedule sent
  (:func:`charging.plan_profiles.plan_schedule`): the stretches where the station's limit is
  above the plan's (``over``: it may draw more than planned), below it (``under``), or where
  the composite says nothing (``missing``: beyond its duration). Limits in another unit are
  converted with the plan's phases and voltage.
- :func:`check_metered_power`: metered power samples against the plan: the samples where the
  station draws more than the plan allows at that moment (0 outside charging periods) by more
  than a tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from charging.plan_profiles import RateUnit, Schedule
from charging.planner import Plan

DEFAULT_TOLERANCE_KW = 0.5
"""Metering and control slack before a draw counts as over the plan (plus a relative part)."""

DEFAULT_TOLERANCE_RATIO = 0.05


@dataclass(frozen=True, slots=True)
class ScheduleDeviation:
    """Over ``[start, end)`` the station's limit is not the plan's (limits in the plan's unit;
    ``station_limit`` None where the composite schedule has ended)."""

    start: datetime
    end: datetime
    kind: Literal["over", "under", "missing"]
    planned_limit: float
    station_limit: float | None


@dataclass(frozen=True, slots=True)
class CompositeSchedule:
    start: datetime
    unit: RateUnit
    duration: int | None
    periods: tuple[tuple[int, float], ...]


def parse_composite(payload: Mapping[str, Any]) -> CompositeSchedule:
    """A 1.6 or 2.0.1 GetCompositeSchedule answer with ``status`` Accepted."""
    if payload.get("status") != "Accepted":
        raise ValueError(f"the composite schedule was not given: {payload.get('status')}")
    if "schedule" in payload:  # 2.0.1
        body = payload["schedule"]
        start_text = body["scheduleStart"]
    else:  # 1.6
        body = payload["chargingSchedule"]
        start_text = body.get("startSchedule") or payload["scheduleStart"]
    return CompositeSchedule(
        start=datetime.fromisoformat(start_text.replace("Z", "+00:00")),
        unit=body["chargingRateUnit"],
        duration=body.get("duration"),
        periods=tuple(
            (p["startPeriod"], float(p["limit"])) for p in body["chargingSchedulePeriod"]
        ),
    )


def compare_composite(
    schedule: Schedule,
    composite: CompositeSchedule,
    *,
    voltage_v: float,
    tolerance: float = 0.1,
) -> list[ScheduleDeviation]:
    """Where the station's composite limit differs from the plan's by more than
    ``tolerance`` (in the plan's unit), over the plan's span (to its final zero period)."""
    planned = [
        (schedule.start + timedelta(seconds=p.start_period), p.limit) for p in schedule.periods
    ]
    plan_end = planned[-1][0]
    factor = 1.0
    if composite.unit != schedule.unit:
        watts_per_amp = voltage_v * schedule.number_phases
        factor = 1 / watts_per_amp if schedule.unit == "A" else watts_per_amp
    station = [
        (composite.start + timedelta(seconds=offset), limit * factor)
        for offset, limit in composite.periods
    ]
    station_end = (
        composite.start + timedelta(seconds=composite.duration)
        if composite.duration is not None
        else None
    )
    cuts = sorted(
        {t for t, _ in planned}
        | {t for t, _ in station if t < plan_end}
        | ({station_end} if station_end is not None and station_end < plan_end else set())
    )
    deviations: list[ScheduleDeviation] = []
    for begin, end in zip(cuts, [*cuts[1:], plan_end], strict=True):
        if begin >= plan_end:
            break
        mine = _at(planned, begin)
        assert mine is not None
        theirs = None if station_end is not None and begin >= station_end else _at(station, begin)
        if theirs is None:
            kind: Literal["over", "under", "missing"] | None = "missing"
        elif theirs > mine + tolerance:
            kind = "over"
        elif theirs < mine - tolerance:
            kind = "under"
        else:
            kind = None
        if kind is None:
            continue
        last = deviations[-1] if deviations else None
        if (
            last
            and last.end == begin
            and (last.kind, last.planned_limit, last.station_limit)
            == (
                kind,
                mine,
                theirs,
            )
        ):
            deviations[-1] = ScheduleDeviation(last.start, end, kind, mine, theirs)
        else:
            deviations.append(ScheduleDeviation(begin, end, kind, mine, theirs))
    return deviations


def _at(steps: list[tuple[datetime, float]], moment: datetime) -> float | None:
    value = None
    for begin, limit in steps:
        if begin > moment:
            break
        value = limit
    return value


@dataclass(frozen=True, slots=True)
class MeterDeviation:
    at: datetime
    drawn_kw: float
    allowed_kw: float


def allowed_power_kw(plan: Plan, moment: datetime) -> float:
    """The plan's power at ``moment`` (0 outside its charging periods)."""
    for period in plan.periods:
        if period.start <= moment < period.end:
            return period.power_kw
    return 0.0


def check_metered_power(
    plan: Plan,
    samples: Iterable[tuple[datetime, float]],
    *,
    tolerance_kw: float = DEFAULT_TOLERANCE_KW,
    tolerance_ratio: float = DEFAULT_TOLERANCE_RATIO,
) -> list[MeterDeviation]:
    """The samples ``(time, kW)`` where the station draws over the plan by more than
    ``tolerance_kw + tolerance_ratio x allowed``."""
    over = []
    for at, drawn in samples:
        allowed = allowed_power_kw(plan, at)
        if drawn > allowed + tolerance_kw + tolerance_ratio * allowed:
            over.append(MeterDeviation(at, drawn, allowed))
    return over
