"""A session's charging curve for a chart: power and delivered energy over time, thinned to a
bounded number of points (pure rules, no database).

Power is ``charging.energy.charging_curve`` (Power.Active.Import, else derived from energy
register deltas); energy is the register minus the session's start value. A long session is
thinned per time bucket: power keeps each bucket's lowest and highest reading (peaks and dips
survive), energy (which only grows) keeps each bucket's last reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from charging.energy import ENERGY_REGISTER, CurvePoint, charging_curve, totals
from charging.events import MeterSample

MAX_POINTS = 2000
"""Most points in any one series of a chart."""


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a chart: times and values, oldest first."""

    t: tuple[datetime, ...] = ()
    values: tuple[float, ...] = ()

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True, slots=True)
class Bucket:
    """The total (phase-less) power and energy readings in one time bucket, as a database
    groups them: the first and last reading's times, the lowest and highest power, the highest
    energy register value (None where the bucket has no such reading)."""

    first: datetime
    last: datetime
    power_low: float | None
    power_high: float | None
    energy_high: float | None


@dataclass(frozen=True, slots=True)
class SessionCurve:
    """Power (W) and delivered energy (Wh) over time, and how many readings they came from."""

    power_w: Series
    energy_wh: Series
    readings: int
    thinned: bool


def session_curve(
    samples: Sequence[MeterSample], *, meter_start_wh: float | None, max_points: int = MAX_POINTS
) -> SessionCurve:
    """The chart of a session from its power and energy ``samples`` (oldest first)."""
    power = charging_curve(samples)
    register = totals(samples, ENERGY_REGISTER)
    start = meter_start_wh if meter_start_wh is not None else (register[0][1] if register else 0)
    energy = [(at, max(0.0, wh - start)) for at, wh in register]
    thin_power = _min_max(power, max_points // 2)
    thin_energy = _last(energy, max_points)
    return SessionCurve(
        power_w=_series((p.t, p.power_w) for p in thin_power),
        energy_wh=_series(thin_energy),
        readings=len(samples),
        thinned=len(thin_power) < len(power) or len(thin_energy) < len(energy),
    )


def bucketed_curve(
    buckets: Sequence[Bucket], *, meter_start_wh: float | None, readings: int
) -> SessionCurve:
    """The chart of a long session from per-bucket totals (see ``charging.history``): power is
    each bucket's low at its first reading's time and its high at its last (the order inside a
    bucket is lost, not the extremes); energy is each bucket's highest register value (the
    register only grows) at its last reading's time. Without power readings, power is the
    average between consecutive buckets' energy."""
    power: list[tuple[datetime, float]] = []
    register: list[tuple[datetime, float]] = []
    for bucket in buckets:
        if bucket.power_low is not None and bucket.power_high is not None:
            if bucket.last > bucket.first:
                power.append((bucket.first, bucket.power_low))
            power.append((bucket.last, bucket.power_high))
        if bucket.energy_high is not None:
            register.append((bucket.last, bucket.energy_high))
    if not power:
        for (before, wh_before), (after, wh_after) in zip(register, register[1:], strict=False):
            seconds = (after - before).total_seconds()
            if seconds > 0:
                power.append((after, max(0.0, (wh_after - wh_before) * 3600.0 / seconds)))
    start = meter_start_wh if meter_start_wh is not None else (register[0][1] if register else 0)
    return SessionCurve(
        power_w=_series(power),
        energy_wh=_series((at, max(0.0, wh - start)) for at, wh in register),
        readings=readings,
        thinned=True,
    )


def _series(points: Iterable[tuple[datetime, float]]) -> Series:
    pairs = list(points)
    return Series(tuple(t for t, _ in pairs), tuple(v for _, v in pairs))


def _bucket_of(at: datetime, first: datetime, width: float, buckets: int) -> int:
    return min(buckets - 1, int((at - first).total_seconds() / width))


def _min_max(points: list[CurvePoint], buckets: int) -> list[CurvePoint]:
    """At most ``2 * buckets`` points: each time bucket's lowest and highest, in time order."""
    if len(points) <= 2 * buckets:
        return points
    first, span = points[0].t, (points[-1].t - points[0].t).total_seconds()
    width = max(span / buckets, 1e-9)
    kept: dict[int, tuple[int, int]] = {}
    for index, point in enumerate(points):
        bucket = _bucket_of(point.t, first, width, buckets)
        low, high = kept.get(bucket, (index, index))
        if point.power_w < points[low].power_w:
            low = index
        if point.power_w > points[high].power_w:
            high = index
        kept[bucket] = (low, high)
    chosen = sorted({i for pair in kept.values() for i in pair})
    return [points[i] for i in chosen]


def _last(points: list[tuple[datetime, float]], buckets: int) -> list[tuple[datetime, float]]:
    """At most ``buckets`` points: each time bucket's last one (and the very first)."""
    if len(points) <= buckets:
        return points
    first, span = points[0][0], (points[-1][0] - points[0][0]).total_seconds()
    width = max(span / (buckets - 1), 1e-9)
    kept: dict[int, int] = {}
    for index, (at, _) in enumerate(points):
        kept[_bucket_of(at, first, width, buckets - 1)] = index
    chosen = sorted({0, *kept.values()})
    return [points[i] for i in chosen]
