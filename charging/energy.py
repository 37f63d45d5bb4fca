"""Energy and the charging curve, from a transaction's meter readings (pure rules).

Readings are ``charging.events.MeterSample`` values already in base units (Wh, W). A reading
without a phase is the total; when a timestamp carries only per-phase values (``L1``, ``L2-N``,
...), the phases are summed. Readings repeated with the same timestamp, measurand and phase (a
resent message) count once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from charging.events import MeterSample

ENERGY_REGISTER = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"

# Phase-to-neutral and plain phase names are summed; line-to-line and neutral are not.
_SUMMED_PHASES = {"L1", "L2", "L3", "L1-N", "L2-N", "L3-N"}


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """Charging power ``power_w`` at ``t``."""

    t: datetime
    power_w: float


def totals(samples: Iterable[MeterSample], measurand: str) -> list[tuple[datetime, float]]:
    """One value per timestamp for ``measurand``, oldest first: the total, else the phase sum."""
    total: dict[datetime, float] = {}
    phases: dict[datetime, dict[str, float]] = {}
    for sample in samples:
        if sample.measurand != measurand:
            continue
        if sample.phase is None:
            total[sample.timestamp] = sample.value
        elif sample.phase in _SUMMED_PHASES:
            phases.setdefault(sample.timestamp, {})[sample.phase] = sample.value
    for at, by_phase in phases.items():
        total.setdefault(at, sum(by_phase.values()))
    return sorted(total.items())


def energy_wh(
    meter_start_wh: float | None,
    meter_stop_wh: float | None,
    samples: Iterable[MeterSample] = (),
) -> float | None:
    """Energy delivered: stop minus start register value, never negative.

    A missing start or stop value is taken from the first or last
    Energy.Active.Import.Register reading; ``None`` when neither end can be known.
    """
    register = totals(samples, ENERGY_REGISTER)
    start = meter_start_wh if meter_start_wh is not None else _first(register)
    stop = meter_stop_wh if meter_stop_wh is not None else _last(register)
    if start is None or stop is None:
        return None
    return max(0.0, stop - start)


def charging_curve(samples: Iterable[MeterSample]) -> list[CurvePoint]:
    """Power over time: Power.Active.Import readings, or, when the station sends no power,
    the average power between consecutive energy register readings (clamped at zero)."""
    kept = list(samples)
    power = totals(kept, POWER)
    if power:
        return [CurvePoint(at, value) for at, value in power]
    register = totals(kept, ENERGY_REGISTER)
    points = []
    for (before, wh_before), (after, wh_after) in zip(register, register[1:], strict=False):
        seconds = (after - before).total_seconds()
        if seconds > 0:
            points.append(CurvePoint(after, max(0.0, (wh_after - wh_before) * 3600.0 / seconds)))
    return points


def _first(readings: list[tuple[datetime, float]]) -> float | None:
    return readings[0][1] if readings else None


def _last(readings: list[tuple[datetime, float]]) -> float | None:
    return readings[-1][1] if readings else None
