"""Site load management: share a site's current limit fairly among its active sessions.

A site has a limit per phase (amperes on L1, L2, L3; a kW limit becomes amperes through the
phases and the nominal voltage, :meth:`SiteLimit.from_kw`). Each station sits on all three
phases or, single-phase, on one of them, has a priority and a minimum and maximum current
(IEC 61851-1: a car is not charged below 6 A). :func:`allocate` takes the sessions in arrival
order and returns one current per session such that:

- on every phase, the sum of the currents of the sessions on it stays at or under the limit;
- every session that charges gets at least its station's minimum current; a session that
  cannot get it waits (current 0), and :attr:`Allocation.waiting` lists those in arrival order
  with the reason. Admission goes by priority (higher first), then by arrival: each session is
  admitted if its minimum still fits on every phase it uses, so a later single-phase session
  on a free phase may charge while an earlier three-phase one waits (no head-of-line
  blocking); the earlier one is always considered first when capacity frees;
- above the minimums, the rest is water-filled (max-min fair): a higher priority is filled up
  to its stations' maximums before a lower one gets more than its minimum, and within one
  priority every session gets the same current unless its station's maximum caps it or a
  phase it uses is full.

Currents are rounded down to 0.1 A, so rounding never takes a phase over its limit.

The function is pure and takes a snapshot: stations joining or leaving during a recompute are
seen on the next one. It is meant to run on every session start and stop and on every site
meter change; what is pushed to the stations then goes through :mod:`charging.load_ramp`
(decreases at once, increases rate-limited). :func:`fallback_limit` is the limit each station
keeps for when it loses the platform (OCPP: a ChargePointMaxProfile / TxDefaultProfile with
that limit), chosen so that the site stays under its limit even if every station falls back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from charging.errors import ChargingError

MIN_CURRENT_A = 6.0
"""The lowest current a car charges with (IEC 61851-1 PWM duty cycle of 10%)."""

NOMINAL_VOLTAGE_V = 230.0
"""Phase-to-neutral voltage of a European low-voltage grid (IEC 60038)."""

_EPSILON = 1e-9


class Phase(StrEnum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"


PHASES: tuple[Phase, ...] = (Phase.L1, Phase.L2, Phase.L3)


class SiteConfigError(ChargingError):
    """A site or station description that cannot be shared (bad phases, currents, ids)."""


class WaitReason(StrEnum):
    LIMIT_BELOW_MIN_CURRENT = "limit-below-min-current"
    """The site limit on a phase the station uses is below the station's minimum current."""
    SITE_FULL = "site-full"
    """Sessions admitted before this one hold the capacity its minimum current needs."""


def floor_tenth(amps: float) -> float:
    """Round down to 0.1 A (the precision stations take in a charging schedule)."""
    return math.floor(amps * 10 + 1e-6) / 10


@dataclass(frozen=True, slots=True)
class SiteLimit:
    """The current each phase of the site may carry, in amperes."""

    l1: float
    l2: float
    l3: float

    def __post_init__(self) -> None:
        for value in (self.l1, self.l2, self.l3):
            if not math.isfinite(value) or value < 0:
                raise SiteConfigError(f"a phase limit must be a finite current >= 0 A, not {value}")

    @classmethod
    def per_phase(cls, amps: float) -> SiteLimit:
        return cls(amps, amps, amps)

    @classmethod
    def from_kw(
        cls, kw: float, *, phases: int = 3, nominal_voltage: float = NOMINAL_VOLTAGE_V
    ) -> SiteLimit:
        """The per-phase current of a power limit spread over ``phases`` (1 or 3) phases.

        A single-phase site has only L1; its other phases carry nothing.
        """
        if phases not in (1, 3):
            raise SiteConfigError(f"a site has 1 or 3 phases, not {phases}")
        if not nominal_voltage > 0:
            raise SiteConfigError(f"the nominal voltage must be > 0 V, not {nominal_voltage}")
        amps = kw * 1000 / (phases * nominal_voltage)
        return cls(amps, amps, amps) if phases == 3 else cls(amps, 0.0, 0.0)

    def on(self, phase: Phase) -> float:
        return {Phase.L1: self.l1, Phase.L2: self.l2, Phase.L3: self.l3}[phase]

    def lowest(self, phases: Iterable[Phase]) -> float:
        return min(self.on(phase) for phase in phases)


@dataclass(frozen=True, slots=True)
class SiteStation:
    """A station as the site sees it: its phases, priority and current range."""

    station_id: str
    phases: int = 3
    phase: Phase = Phase.L1
    """The site phase a single-phase station is wired to (ignored for three phases)."""
    priority: int = 0
    min_current: float = MIN_CURRENT_A
    max_current: float = 32.0

    def __post_init__(self) -> None:
        if self.phases not in (1, 3):
            raise SiteConfigError(f"{self.station_id}: a station has 1 or 3 phases")
        if not (0 < self.min_current <= self.max_current and math.isfinite(self.max_current)):
            raise SiteConfigError(
                f"{self.station_id}: need 0 < min_current <= max_current "
                f"({self.min_current}..{self.max_current})"
            )

    @property
    def site_phases(self) -> tuple[Phase, ...]:
        return PHASES if self.phases == 3 else (self.phase,)


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A charging session on one of the site's stations."""

    session_id: str
    station_id: str


@dataclass(frozen=True, slots=True)
class Waiting:
    session_id: str
    reason: WaitReason


@dataclass(frozen=True, slots=True)
class Allocation:
    """The result of one recompute: a current per session (0 for those that wait)."""

    currents: Mapping[str, float]
    waiting: tuple[Waiting, ...]
    """Sessions that get 0 A, in arrival order, with why."""

    def phase_load(self, site: Site, sessions: Sequence[ActiveSession]) -> dict[Phase, float]:
        """The sum of the allocated currents on each phase."""
        load = dict.fromkeys(PHASES, 0.0)
        for session in sessions:
            for phase in site.station(session.station_id).site_phases:
                load[phase] += self.currents.get(session.session_id, 0.0)
        return load


@dataclass(frozen=True, slots=True)
class Site:
    limit: SiteLimit
    stations: Mapping[str, SiteStation]

    @classmethod
    def of(cls, limit: SiteLimit, stations: Iterable[SiteStation]) -> Site:
        by_id: dict[str, SiteStation] = {}
        for station in stations:
            if station.station_id in by_id:
                raise SiteConfigError(f"station {station.station_id!r} is on the site twice")
            by_id[station.station_id] = station
        return cls(limit, by_id)

    def station(self, station_id: str) -> SiteStation:
        try:
            return self.stations[station_id]
        except KeyError:
            raise SiteConfigError(f"station {station_id!r} is not on this site") from None


def allocate(
    site: Site, sessions: Sequence[ActiveSession], *, limit: SiteLimit | None = None
) -> Allocation:
    """Share ``limit`` (default: the site's own) among ``sessions``, given in arrival order.

    Raises:
        SiteConfigError: a session on a station that is not on the site, or one session twice.
    """
    limit = limit or site.limit
    seen: set[str] = set()
    for session in sessions:
        if session.session_id in seen:
            raise SiteConfigError(f"session {session.session_id!r} is listed twice")
        seen.add(session.session_id)
    stations = {s.session_id: site.station(s.station_id) for s in sessions}
    admitted, waiting = _admit(sessions, stations, limit)
    currents = _water_fill(admitted, stations, limit)
    result = {s.session_id: floor_tenth(currents.get(s.session_id, 0.0)) for s in sessions}
    return Allocation(result, waiting)


def _admit(
    sessions: Sequence[ActiveSession], stations: Mapping[str, SiteStation], limit: SiteLimit
) -> tuple[list[str], tuple[Waiting, ...]]:
    """Admit by priority, then arrival, while each minimum fits on all the phases it uses."""
    reserved = dict.fromkeys(PHASES, 0.0)
    admitted: list[str] = []
    reasons: dict[str, WaitReason] = {}
    order = sorted(sessions, key=lambda s: -stations[s.session_id].priority)  # stable: arrival
    for session in order:
        station = stations[session.session_id]
        need = station.min_current
        if limit.lowest(station.site_phases) + _EPSILON < need:
            reasons[session.session_id] = WaitReason.LIMIT_BELOW_MIN_CURRENT
        elif all(reserved[p] + need <= limit.on(p) + _EPSILON for p in station.site_phases):
            for phase in station.site_phases:
                reserved[phase] += need
            admitted.append(session.session_id)
        else:
            reasons[session.session_id] = WaitReason.SITE_FULL
    waiting = tuple(
        Waiting(s.session_id, reasons[s.session_id]) for s in sessions if s.session_id in reasons
    )
    return admitted, waiting


def _water_fill(
    admitted: Sequence[str], stations: Mapping[str, SiteStation], limit: SiteLimit
) -> dict[str, float]:
    """Max-min fair fill above the minimums, one priority level after the other."""
    currents = {sid: stations[sid].min_current for sid in admitted}
    used = dict.fromkeys(PHASES, 0.0)
    for sid in admitted:
        for phase in stations[sid].site_phases:
            used[phase] += currents[sid]
    for priority in sorted({stations[sid].priority for sid in admitted}, reverse=True):
        level = [sid for sid in admitted if stations[sid].priority == priority]
        _fill_level(level, stations, limit, currents, used)
    return currents


def _fill_level(
    level: list[str],
    stations: Mapping[str, SiteStation],
    limit: SiteLimit,
    currents: dict[str, float],
    used: dict[Phase, float],
) -> None:
    """Raise a common water level over ``level`` until each session is capped or blocked.

    Each round finds, per phase, the level at which that phase fills (sum of
    ``clamp(level, min, max)`` over its rising sessions plus what is fixed equals its limit);
    the lowest of those levels is applied, the sessions on the full phases freeze there, and
    the others rise further in the next round. At most four rounds: three phases, then caps.
    """
    rising = [sid for sid in level if currents[sid] < stations[sid].max_current]
    while rising:
        fixed = dict(used)
        by_phase: dict[Phase, list[str]] = {p: [] for p in PHASES}
        for sid in rising:
            for phase in stations[sid].site_phases:
                fixed[phase] -= currents[sid]
                by_phase[phase].append(sid)
        top = max(stations[sid].max_current for sid in rising)
        water = top
        full: set[Phase] = set()
        for phase, members in by_phase.items():
            if not members:
                continue
            fill = _level_for(
                limit.on(phase) - fixed[phase],
                [(currents[sid], stations[sid].max_current) for sid in members],
            )
            if fill is None:
                continue
            if fill < water - _EPSILON:
                water, full = fill, {phase}
            elif abs(fill - water) <= _EPSILON:
                full.add(phase)
        for sid in rising:
            new = min(max(water, currents[sid]), stations[sid].max_current)
            for phase in stations[sid].site_phases:
                used[phase] += new - currents[sid]
            currents[sid] = new
        rising = [
            sid
            for sid in rising
            if currents[sid] < stations[sid].max_current - _EPSILON
            and not full.intersection(stations[sid].site_phases)
        ]


def _level_for(capacity: float, ranges: list[tuple[float, float]]) -> float | None:
    """The level ``t`` with ``sum(clamp(t, lo, hi)) == capacity``; None if all fit at ``hi``.

    ``capacity`` is never below ``sum(lo)`` (the minimums were admitted to fit). The sum is
    piecewise linear in ``t``: its slope is the number of ranges with ``lo <= t < hi``, so one
    pass over the sorted ends finds the level (O(n log n)).
    """
    if sum(hi for _, hi in ranges) <= capacity + _EPSILON:
        return None
    total = sum(lo for lo, _ in ranges)
    ends = sorted([(lo, 1) for lo, _ in ranges] + [(hi, -1) for _, hi in ranges])
    t, slope = ends[0][0], 0
    if total >= capacity - _EPSILON:
        return t
    for point, change in ends:
        if point > t:
            gain = slope * (point - t)
            if total + gain >= capacity - _EPSILON:
                return t + (capacity - total) / slope
            total, t = total + gain, point
        slope += change
    return t  # pragma: no cover - the sum of the highs exceeds capacity


@dataclass(frozen=True, slots=True)
class Fallback:
    """The limit each station holds for when it loses the platform."""

    amps: float
    """Per station, on each phase it uses; 0 means "do not charge offline"."""
    reason: str


def fallback_limit(site: Site, limit: SiteLimit | None = None) -> Fallback:
    """One safe limit for every station: the phase limit over the stations on that phase.

    The site's most crowded phase decides: ``min over phases (limit / stations on it)``,
    rounded down to 0.1 A and capped by nothing else (a station caps itself at its maximum),
    so that the site stays under its limit when every station falls back at once. When that is
    below the largest minimum current on the site, stations cannot all charge at the same
    time offline and the fallback is 0 A: an offline station waits for the platform rather
    than risk the fuse.
    """
    limit = limit or site.limit
    count = dict.fromkeys(PHASES, 0)
    for station in site.stations.values():
        for phase in station.site_phases:
            count[phase] += 1
    crowded = [p for p in PHASES if count[p]]
    if not crowded:
        return Fallback(0.0, "no stations on the site")
    amps = floor_tenth(min(limit.on(p) / count[p] for p in crowded))
    need = max(station.min_current for station in site.stations.values())
    if amps + _EPSILON < need:
        return Fallback(
            0.0, f"{amps} A per station is below the minimum current of {need} A: wait offline"
        )
    return Fallback(amps, f"site limit shared by {max(count.values())} stations on a phase")
