"""The charging budget a site meter leaves: fuse limit minus what the rest of the building draws.

A meter at the grid connection measures the building's import per phase. Part of it is our
stations; the rest (the building's own load) is ``import - our draw``. The budget the stations
may share is then ``fuse limit - (import - our draw)`` per phase, capped by the charging
circuit's own limit (the site's static limit, when it has one) and never below 0 A.

Conservative choices:

- the building's load is never taken below 0 A (a phase current is a magnitude; a negative
  difference is our draw measured at another instant, or export from a PV system, which is not
  counted as headroom);
- a reading older than ``max_age`` (or none at all: the meter stopped answering) is not used:
  the budget falls back to the static ``fallback`` limit and :attr:`Budget.alert` is raised, so
  the operator is told the site runs on its safe static limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from charging.load_sharing import PHASES, Phase, SiteLimit


@dataclass(frozen=True, slots=True)
class MeterReading:
    """Per-phase currents (A) at the grid connection, and when they were read."""

    taken_at: datetime
    l1: float
    l2: float
    l3: float
    total_power_w: float | None = None

    def on(self, phase: Phase) -> float:
        return {Phase.L1: self.l1, Phase.L2: self.l2, Phase.L3: self.l3}[phase]

    @property
    def is_valid(self) -> bool:
        return all(math.isfinite(value) for value in (self.l1, self.l2, self.l3))


@dataclass(frozen=True, slots=True)
class Budget:
    limit: SiteLimit
    alert: bool
    """True when the meter is stale, missing or unreadable and the static fallback applies."""
    reason: str


def meter_budget(
    *,
    fuse: SiteLimit,
    reading: MeterReading | None,
    our_draw: SiteLimit,
    now: datetime,
    max_age: timedelta,
    fallback: SiteLimit,
    circuit: SiteLimit | None = None,
) -> Budget:
    """The per-phase current our stations may share, from the latest meter reading.

    ``our_draw`` is what our stations draw per phase at about the time of ``reading`` (from
    their meter values, or the limits pushed to them). ``fallback`` is the safe static limit
    used when the reading cannot be trusted.
    """
    if reading is None:
        return Budget(fallback, True, "no site meter reading: static fallback limit")
    if not reading.is_valid:
        return Budget(fallback, True, "the site meter reading is not a number: static fallback")
    age = now - reading.taken_at
    if age > max_age:
        return Budget(fallback, True, f"the site meter reading is {age} old: static fallback limit")
    amps: list[float] = []
    for phase in PHASES:
        building = max(0.0, reading.on(phase) - our_draw.on(phase))
        budget = fuse.on(phase) - building
        if circuit is not None:
            budget = min(budget, circuit.on(phase))
        amps.append(max(0.0, budget))
    return Budget(SiteLimit(*amps), False, "fuse limit minus the building's own load")
