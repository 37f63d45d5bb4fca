"""The charging planner: the cheapest schedule that delivers the energy wanted (pure rules).

A :class:`PlanRequest` says how much energy (kWh, or a target state of charge with the current
one and the battery size), by when (the departure, else the end of the prices), at most at what
price, under which limits (station current and power, car current, phases, nominal voltage).
:func:`plan_charging` answers a :class:`Plan` or, when no schedule meets the request, an
:class:`Infeasible` with a reason code and a message saying what is feasible instead.

How the schedule is made:

- Power is ``current x voltage x phases``. The planner always charges at the highest current
  all limits allow (at least the minimum current, 6 A by default), so any energy fits in fewer
  slots; the energy of one slot is then anything between zero and its full capacity by
  charging for part of it. With a linear price this is a fractional knapsack: taking slots
  cheapest first (equal prices: the later slot first, so flat prices charge just before the
  departure) is optimal.
- The one slot that is not needed in full (the last one taken) charges at the same current for
  the time it needs, at the *end* of its slot (``[slot end - t, slot end)``), as late as
  possible. Energy beyond what is wanted is never planned, even at negative prices.
- ``continuous`` mode charges in one block of ``energy / power`` hours; the cheapest block
  starts at a slot start or ends at a slot end, so only those candidates are priced (equal
  cost: the latest).
- A price cap excludes the slots above it; a continuous block cannot cross them.

A target state of charge becomes energy as ``(target - current) / 100 x battery / efficiency``
with :data:`DEFAULT_EFFICIENCY` (0.9: AC charging loses about a tenth between grid and battery).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from charging.prices import PriceSlot

DEFAULT_EFFICIENCY = 0.9
"""Grid-to-battery efficiency used when energy comes from a state of charge."""

EPSILON_KWH = 1e-9
"""Energies closer than this are equal (float arithmetic over many slots)."""


class PlanMode(StrEnum):
    CHEAPEST = "cheapest"
    CONTINUOUS = "continuous"


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What the driver wants and what the hardware allows.

    Give ``energy_kwh``, or ``target_soc`` with ``current_soc`` and ``battery_kwh`` (percent).
    Give at least one station limit (``station_max_current_a`` or ``station_max_power_kw``).
    ``display_zone`` is only for the times in :attr:`Infeasible.message`.
    """

    now: datetime
    prices: Sequence[PriceSlot]
    energy_kwh: float | None = None
    target_soc: float | None = None
    current_soc: float | None = None
    battery_kwh: float | None = None
    efficiency: float = DEFAULT_EFFICIENCY
    departure: datetime | None = None
    price_cap: Decimal | None = None
    station_max_current_a: float | None = None
    station_max_power_kw: float | None = None
    car_max_current_a: float | None = None
    phases: Literal[1, 3] = 3
    voltage_v: float = 230.0
    min_current_a: float = 6.0
    mode: PlanMode = PlanMode.CHEAPEST
    display_zone: tzinfo = field(default=UTC)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or (
            self.departure is not None and self.departure.tzinfo is None
        ):
            raise ValueError("plan times are aware (UTC) datetimes")
        if (self.energy_kwh is None) == (self.target_soc is None):
            raise ValueError("give either energy_kwh or target_soc")
        if self.target_soc is not None and (self.current_soc is None or self.battery_kwh is None):
            raise ValueError("a target state of charge needs current_soc and battery_kwh")
        if self.energy_kwh is not None and self.energy_kwh < 0:
            raise ValueError("energy wanted cannot be negative")
        if self.station_max_current_a is None and self.station_max_power_kw is None:
            raise ValueError("give the station's maximum current or power")
        if self.phases not in (1, 3):
            raise ValueError("phases are 1 or 3")
        if not 0 < self.efficiency <= 1 or self.voltage_v <= 0 or self.min_current_a <= 0:
            raise ValueError("efficiency in (0, 1], voltage and minimum current above zero")

    @property
    def kw_per_ampere(self) -> float:
        return self.voltage_v * self.phases / 1000

    @property
    def max_current_a(self) -> float:
        """The highest current every limit allows, floored to 0.1 A (what OCPP can carry)."""
        limits = [a for a in (self.station_max_current_a, self.car_max_current_a) if a is not None]
        if self.station_max_power_kw is not None:
            limits.append(self.station_max_power_kw / self.kw_per_ampere)
        return int(min(limits) * 10 + 1e-9) / 10


@dataclass(frozen=True, slots=True)
class PlanPeriod:
    """Charging at ``current_a`` over ``[start, end)``, inside one price slot."""

    start: datetime
    end: datetime
    current_a: float
    power_kw: float
    energy_kwh: float
    price_per_kwh: Decimal

    @property
    def cost(self) -> Decimal:
        return Decimal(f"{self.energy_kwh:.6f}") * self.price_per_kwh


@dataclass(frozen=True, slots=True)
class Plan:
    """Periods in time order, none overlapping; totals over all of them. ``planned_at`` is the
    request's ``now``: a profile holds the charging at zero from then to the first period."""

    periods: tuple[PlanPeriod, ...]
    mode: PlanMode
    phases: Literal[1, 3]
    voltage_v: float
    planned_at: datetime | None = None

    @property
    def energy_kwh(self) -> float:
        return sum(p.energy_kwh for p in self.periods)

    @property
    def cost(self) -> Decimal:
        return sum((p.cost for p in self.periods), Decimal(0))

    @property
    def start(self) -> datetime | None:
        return self.periods[0].start if self.periods else None

    @property
    def end(self) -> datetime | None:
        return self.periods[-1].end if self.periods else None


class InfeasibleReason(StrEnum):
    DEPARTURE_PASSED = "departure_passed"
    BEYOND_BATTERY = "beyond_battery"
    LIMIT_BELOW_MINIMUM = "limit_below_minimum"
    NOT_ENOUGH_TIME = "not_enough_time"
    PRICE_CAP = "price_cap"
    NO_CONTINUOUS_BLOCK = "no_continuous_block"


@dataclass(frozen=True, slots=True)
class Infeasible:
    """No schedule meets the request. ``feasible_kwh`` is the most that could be delivered
    under the same conditions (None where nothing can be said, e.g. a departure past)."""

    reason: InfeasibleReason
    message: str
    feasible_kwh: float | None = None


def energy_wanted(request: PlanRequest) -> float:
    """The energy to plan, in kWh at the grid side."""
    if request.energy_kwh is not None:
        return request.energy_kwh
    assert request.target_soc is not None and request.current_soc is not None
    assert request.battery_kwh is not None
    gap = max(0.0, request.target_soc - request.current_soc)
    return gap / 100 * request.battery_kwh / request.efficiency


@dataclass(frozen=True, slots=True)
class _Slot:
    start: float  # POSIX seconds, clipped to the window
    end: float
    price: Decimal
    price_f: float


def plan_charging(request: PlanRequest) -> Plan | Infeasible:
    """The cheapest plan for ``request``, or why there is none and what is feasible instead."""
    zone = request.display_zone
    now = request.now
    if request.departure is not None and request.departure <= now:
        return Infeasible(
            InfeasibleReason.DEPARTURE_PASSED,
            f"the departure {_hm(request.departure, zone)} is already past"
            f" (it is {_hm(now, zone)})",
        )
    beyond = _beyond_battery(request)
    if beyond is not None:
        return beyond
    imax = request.max_current_a
    if imax < request.min_current_a:
        return Infeasible(
            InfeasibleReason.LIMIT_BELOW_MINIMUM,
            f"the limit of {imax:.1f} A is below the minimum charging current of"
            f" {request.min_current_a:g} A: no charging is possible",
            0.0,
        )
    wanted = energy_wanted(request)
    power = imax * request.kw_per_ampere
    slots = _window(request)
    prices_end = max((s.end for s in request.prices), default=now)
    horizon = request.departure or prices_end
    by = _hm(horizon, zone)
    if prices_end < horizon:
        by = f"{by} (prices known until {_hm(prices_end, zone)})"
    full = sum(s.end - s.start for s in slots) / 3600 * power
    if full + EPSILON_KWH < wanted:
        return Infeasible(
            InfeasibleReason.NOT_ENOUGH_TIME,
            f"{_kwh(full)} kWh by {by} at most (at {power:.1f} kW), not {_kwh(wanted)} kWh",
            full,
        )
    if request.price_cap is not None:
        cap = request.price_cap
        slots = [s for s in slots if s.price <= cap]
        capped = sum(s.end - s.start for s in slots) / 3600 * power
        if capped + EPSILON_KWH < wanted:
            return Infeasible(
                InfeasibleReason.PRICE_CAP,
                f"{_kwh(capped)} kWh by {by} at most at up to {cap} per kWh"
                f" ({_kwh(full)} kWh without the cap), not {_kwh(wanted)} kWh",
                capped,
            )
    if wanted <= EPSILON_KWH:
        return Plan((), request.mode, request.phases, request.voltage_v, now)
    if request.mode == PlanMode.CONTINUOUS:
        chosen = _continuous(slots, wanted, power)
        if isinstance(chosen, float):
            return Infeasible(
                InfeasibleReason.NO_CONTINUOUS_BLOCK,
                f"{_kwh(chosen)} kWh in one block by {by} at most, not {_kwh(wanted)} kWh"
                " (the cheapest mode can split it)",
                chosen,
            )
    else:
        chosen = _cheapest(slots, wanted, power)
    periods = tuple(
        PlanPeriod(
            start=_at(start),
            end=_at(end),
            current_a=imax,
            power_kw=power,
            energy_kwh=(end - start) / 3600 * power,
            price_per_kwh=slot.price,
        )
        for slot, start, end in sorted(chosen, key=lambda c: c[1])
    )
    return Plan(periods, request.mode, request.phases, request.voltage_v, now)


def _beyond_battery(request: PlanRequest) -> Infeasible | None:
    if request.target_soc is not None and request.target_soc > 100:
        return Infeasible(
            InfeasibleReason.BEYOND_BATTERY,
            f"a target of {request.target_soc:g}% is beyond a full battery: 100% at most",
        )
    if request.energy_kwh is None or request.battery_kwh is None:
        return None
    room = (100 - (request.current_soc or 0.0)) / 100 * request.battery_kwh / request.efficiency
    if request.energy_kwh > room + EPSILON_KWH:
        return Infeasible(
            InfeasibleReason.BEYOND_BATTERY,
            f"{_kwh(room)} kWh fit in the battery at most, not {_kwh(request.energy_kwh)} kWh",
            room,
        )
    return None


def _window(request: PlanRequest) -> list[_Slot]:
    """The price slots clipped to ``[now, departure)``, in time order."""
    start = request.now.timestamp()
    end = request.departure.timestamp() if request.departure is not None else float("inf")
    slots = []
    last = -float("inf")
    for slot in sorted(request.prices, key=lambda s: s.start):
        s, e = slot.start.timestamp(), slot.end.timestamp()
        if s < last:
            raise ValueError(f"price slots overlap at {slot.start}")
        last = e
        s, e = max(s, start), min(e, end)
        if s < e:
            slots.append(_Slot(s, e, slot.price_per_kwh, float(slot.price_per_kwh)))
    return slots


_Chosen = list[tuple[_Slot, float, float]]


def _cheapest(slots: list[_Slot], wanted: float, power: float) -> _Chosen:
    chosen: _Chosen = []
    left = wanted
    for slot in sorted(slots, key=lambda s: (s.price, -s.start)):
        capacity = (slot.end - slot.start) / 3600 * power
        if capacity + EPSILON_KWH >= left:
            chosen.append((slot, slot.end - left / power * 3600, slot.end))
            return chosen
        chosen.append((slot, slot.start, slot.end))
        left -= capacity
    raise AssertionError("capacity was checked before")  # pragma: no cover


def _continuous(slots: list[_Slot], wanted: float, power: float) -> _Chosen | float:
    """The cheapest single block, or (a float) the most energy one block can hold."""
    length = wanted / power * 3600
    best: tuple[float, float, list[_Slot]] | None = None  # cost, start, segment
    longest = 0.0
    for segment in _segments(slots):
        seg_start, seg_end = segment[0].start, segment[-1].end
        longest = max(longest, seg_end - seg_start)
        if seg_end - seg_start + 1e-6 < length:
            continue
        starts = [seg_start] + [slot.end for slot in segment]
        cumulative = [0.0]
        for slot in segment:
            cumulative.append(cumulative[-1] + (slot.end - slot.start) * slot.price_f)
        candidates = {s.start for s in segment} | {s.end - length for s in segment}
        for begin in candidates:
            begin = min(max(begin, seg_start), seg_end - length)
            cost = _integral(segment, starts, cumulative, begin + length) - _integral(
                segment, starts, cumulative, begin
            )
            if (
                best is None
                or cost < best[0] - 1e-9
                or (cost <= best[0] + 1e-9 and begin > best[1])
            ):
                best = (cost, begin, segment)
    if best is None:
        return longest / 3600 * power
    _, begin, segment = best
    end = begin + length
    return [
        (s, max(s.start, begin), min(s.end, end))
        for s in segment
        if min(s.end, end) > max(s.start, begin)
    ]


def _integral(
    segment: list[_Slot], starts: list[float], cumulative: list[float], t: float
) -> float:
    """Price x seconds from the segment's start to ``t``."""
    i = min(bisect_right(starts, t) - 1, len(segment) - 1)
    return cumulative[i] + (t - starts[i]) * segment[i].price_f


def _segments(slots: list[_Slot]) -> list[list[_Slot]]:
    segments: list[list[_Slot]] = []
    for slot in slots:
        if segments and segments[-1][-1].end == slot.start:
            segments[-1].append(slot)
        else:
            segments.append([slot])
    return segments


def _at(posix: float) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=posix)


def _hm(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def _kwh(value: float) -> str:
    return f"{max(value, 0.0):.1f}"
