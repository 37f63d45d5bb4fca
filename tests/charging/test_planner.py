"""The charging planner: worked examples, and properties against a brute-force optimum."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charging.planner import (
    EPSILON_KWH,
    Infeasible,
    InfeasibleReason,
    Plan,
    PlanMode,
    PlanRequest,
    energy_wanted,
    plan_charging,
)
from charging.prices import PriceSlot

T0 = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")


def quarter_hours(count: int, price: object, night: object | None = None) -> list[PriceSlot]:
    """``count`` 15-minute slots from T0; ``night`` from 22:00 to 06:00 Berlin time."""
    slots = []
    for i in range(count):
        start = T0 + timedelta(minutes=15 * i)
        local = start.astimezone(BERLIN).hour
        cost = night if night is not None and (local >= 22 or local < 6) else price
        slots.append(PriceSlot(start, start + timedelta(minutes=15), Decimal(str(cost))))
    return slots


def request(**changes: object) -> PlanRequest:
    base = PlanRequest(
        now=T0,
        prices=quarter_hours(56, "0.30", night="0.12"),
        energy_kwh=20.0,
        departure=T0 + timedelta(hours=13),  # 07:00 Berlin
        station_max_current_a=16.0,
        display_zone=BERLIN,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def plan_of(req: PlanRequest) -> Plan:
    result = plan_charging(req)
    assert isinstance(result, Plan), result
    return result


def test_twenty_kwh_by_seven_charges_in_the_night_window_and_as_late_as_possible() -> None:
    plan = plan_of(request())
    assert plan.energy_kwh == pytest.approx(20.0, abs=1e-6)
    assert {p.price_per_kwh for p in plan.periods} == {Decimal("0.12")}
    assert plan.end == datetime(2026, 1, 15, 5, 0, tzinfo=UTC)  # 06:00 Berlin, night ends
    assert all(p.current_a == 16.0 for p in plan.periods)
    assert plan.periods[0].power_kw == pytest.approx(16 * 230 * 3 / 1000)
    assert plan.cost == pytest.approx(Decimal("2.40"), abs=Decimal("0.0001"))


def test_the_partial_slot_charges_at_the_end_of_its_slot() -> None:
    plan = plan_of(request())
    first = plan.periods[0]
    slot_end = T0 + timedelta(minutes=15 * ((first.start - T0) // timedelta(minutes=15) + 1))
    assert first.end == slot_end
    assert first.end - first.start < timedelta(minutes=15)
    assert all(p.end - p.start == timedelta(minutes=15) for p in plan.periods[1:])


def test_continuous_mode_charges_in_one_block() -> None:
    prices = quarter_hours(56, "0.30", night="0.12")
    prices[40] = dataclasses.replace(prices[40], price_per_kwh=Decimal("0.01"))  # 04:00 local
    plan = plan_of(request(prices=prices, mode=PlanMode.CONTINUOUS))
    assert all(a.end == b.start for a, b in itertools.pairwise(plan.periods))
    assert plan.energy_kwh == pytest.approx(20.0, abs=1e-6)
    cheapest = plan_of(request(prices=prices))
    assert cheapest.cost <= plan.cost


def test_a_target_state_of_charge_becomes_energy_with_the_efficiency() -> None:
    req = request(energy_kwh=None, target_soc=80.0, current_soc=35.0, battery_kwh=60.0)
    assert energy_wanted(req) == pytest.approx(0.45 * 60 / 0.9)
    assert plan_of(req).energy_kwh == pytest.approx(30.0, abs=1e-6)


def test_a_full_battery_plans_nothing() -> None:
    req = request(energy_kwh=None, target_soc=50.0, current_soc=60.0, battery_kwh=60.0)
    assert plan_of(req).periods == ()


@pytest.mark.parametrize(
    ("changes", "reason", "message"),
    [
        (
            {"energy_kwh": 200.0},
            InfeasibleReason.NOT_ENOUGH_TIME,
            "143.5 kWh by 07:00 at most (at 11.0 kW), not 200.0 kWh",
        ),
        (
            {"price_cap": Decimal("0.15"), "energy_kwh": 100.0},
            InfeasibleReason.PRICE_CAP,
            "88.3 kWh by 07:00 at most at up to 0.15 per kWh (143.5 kWh without the cap),"
            " not 100.0 kWh",
        ),
        (
            {"departure": T0 - timedelta(minutes=5)},
            InfeasibleReason.DEPARTURE_PASSED,
            "the departure 17:55 is already past (it is 18:00)",
        ),
        (
            {"station_max_current_a": 32.0, "car_max_current_a": 5.5},
            InfeasibleReason.LIMIT_BELOW_MINIMUM,
            "the limit of 5.5 A is below the minimum charging current of 6 A:"
            " no charging is possible",
        ),
        (
            {"energy_kwh": 70.0, "battery_kwh": 60.0, "current_soc": 20.0},
            InfeasibleReason.BEYOND_BATTERY,
            "53.3 kWh fit in the battery at most, not 70.0 kWh",
        ),
        (
            {"energy_kwh": None, "target_soc": 110.0, "current_soc": 20.0, "battery_kwh": 60.0},
            InfeasibleReason.BEYOND_BATTERY,
            "a target of 110% is beyond a full battery: 100% at most",
        ),
    ],
)
def test_infeasible_requests_say_what_is_feasible_instead(
    changes: dict[str, object], reason: InfeasibleReason, message: str
) -> None:
    result = plan_charging(request(**changes))
    assert isinstance(result, Infeasible)
    assert (result.reason, result.message) == (reason, message)


def test_continuous_mode_cannot_cross_a_capped_slot() -> None:
    prices = quarter_hours(56, "0.12")
    prices[30] = dataclasses.replace(prices[30], price_per_kwh=Decimal("0.50"))
    result = plan_charging(
        request(prices=prices, price_cap=Decimal("0.20"), energy_kwh=120.0, mode="continuous")
    )
    assert isinstance(result, Infeasible)
    assert result.reason is InfeasibleReason.NO_CONTINUOUS_BLOCK
    assert result.message.startswith("82.8 kWh in one block by 07:00 at most")


def test_prices_ending_before_the_departure_are_said() -> None:
    result = plan_charging(request(prices=quarter_hours(8, "0.3"), energy_kwh=30.0))
    assert isinstance(result, Infeasible)
    assert "by 07:00 (prices known until 20:00) at most" in result.message


def test_a_station_power_limit_lowers_the_current() -> None:
    plan = plan_of(request(station_max_power_kw=7.4, station_max_current_a=None, phases=1))
    assert plan.periods[0].current_a == 32.1
    assert plan.periods[0].power_kw <= 7.4


def test_bad_requests_raise() -> None:
    with pytest.raises(ValueError, match="either"):
        request(target_soc=80.0)
    with pytest.raises(ValueError, match="maximum current or power"):
        request(station_max_current_a=None)


# Properties ------------------------------------------------------------------------------

prices = st.integers(min_value=-5, max_value=40).map(lambda c: Decimal(c) / 100)


@st.composite
def small_requests(draw: st.DrawFn) -> PlanRequest:
    count = draw(st.integers(min_value=1, max_value=8))
    slots = []
    start = T0
    for _ in range(count):
        length = timedelta(minutes=draw(st.sampled_from([15, 30, 60])))
        slots.append(PriceSlot(start, start + length, draw(prices)))
        start += length
    now = T0 + timedelta(seconds=draw(st.integers(min_value=0, max_value=600)))
    departure = draw(
        st.none() | st.integers(min_value=1, max_value=int((start - now).total_seconds()) + 900)
    )
    return PlanRequest(
        now=now,
        prices=slots,
        energy_kwh=draw(st.floats(min_value=0.0, max_value=60.0)),
        departure=now + timedelta(seconds=departure) if departure is not None else None,
        price_cap=draw(st.none() | prices),
        station_max_current_a=draw(st.floats(min_value=4.0, max_value=32.0)),
        station_max_power_kw=draw(st.none() | st.floats(min_value=3.0, max_value=22.0)),
        car_max_current_a=draw(st.none() | st.floats(min_value=4.0, max_value=32.0)),
        phases=draw(st.sampled_from([1, 3])),
        mode=draw(st.sampled_from(list(PlanMode))),
    )


def usable(req: PlanRequest) -> list[tuple[float, float]]:
    """(hours, price) of each slot the request may charge in, computed independently."""
    end = req.departure or req.prices[-1].end
    out = []
    for slot in req.prices:
        begin, finish = max(slot.start, req.now), min(slot.end, end)
        allowed = req.price_cap is None or slot.price_per_kwh <= req.price_cap
        if begin < finish and allowed:
            out.append(((finish - begin).total_seconds() / 3600, float(slot.price_per_kwh)))
    return out


def brute_force_cheapest(req: PlanRequest, power: float) -> float | None:
    """The optimum over every vertex: a subset of slots in full and at most one in part."""
    wanted = energy_wanted(req)
    slots = usable(req)
    best = None
    for partial in [None, *range(len(slots))]:
        others = [i for i in range(len(slots)) if i != partial]
        for r in range(len(others) + 1):
            for subset in itertools.combinations(others, r):
                energy = sum(slots[i][0] * power for i in subset)
                cost = sum(slots[i][0] * power * slots[i][1] for i in subset)
                rest = wanted - energy
                if rest < -1e-9:
                    continue
                if partial is None:
                    if rest > 1e-9:
                        continue
                elif rest > slots[partial][0] * power + 1e-9:
                    continue
                else:
                    cost += rest * slots[partial][1]
                best = cost if best is None else min(best, cost)
    return best


def longest_block_hours(req: PlanRequest) -> float:
    """The longest run of usable slots with no gap between them."""
    end = req.departure or req.prices[-1].end
    longest = run = 0.0
    previous = None
    for slot in req.prices:
        begin, finish = max(slot.start, req.now), min(slot.end, end)
        allowed = req.price_cap is None or slot.price_per_kwh <= req.price_cap
        if begin < finish and allowed:
            run = (
                run + (finish - begin).total_seconds() / 3600
                if previous == begin
                else (finish - begin).total_seconds() / 3600
            )
            previous = finish
            longest = max(longest, run)
        else:
            previous = None
    return longest


def limits(req: PlanRequest) -> float:
    caps = [a for a in (req.station_max_current_a, req.car_max_current_a) if a is not None]
    if req.station_max_power_kw is not None:
        caps.append(req.station_max_power_kw * 1000 / (230 * req.phases))
    return min(caps)


@settings(max_examples=200, deadline=None)
@given(small_requests())
def test_plans_keep_every_limit_and_meet_the_energy_exactly(req: PlanRequest) -> None:
    result = plan_charging(req)
    wanted = energy_wanted(req)
    power_cap = min(limits(req), 32.0) * 230 * req.phases / 1000
    if isinstance(result, Infeasible):
        if result.reason in (InfeasibleReason.NOT_ENOUGH_TIME, InfeasibleReason.PRICE_CAP):
            capacity = sum(h for h, _ in usable(req)) * power_cap
            assert capacity < wanted + 1e-6
        elif result.reason is InfeasibleReason.LIMIT_BELOW_MINIMUM:
            assert limits(req) < 6.1
        else:
            assert result.reason is InfeasibleReason.NO_CONTINUOUS_BLOCK
            assert req.mode is PlanMode.CONTINUOUS
            assert longest_block_hours(req) * power_cap < wanted + 1e-6
        return
    assert abs(result.energy_kwh - wanted) < 1e-6
    end = req.departure or req.prices[-1].end
    for period in result.periods:
        assert 6.0 <= period.current_a <= limits(req) + 1e-9
        assert period.power_kw <= power_cap + 1e-9
        assert req.now <= period.start < period.end <= end
        assert req.price_cap is None or period.price_per_kwh <= req.price_cap
    for a, b in itertools.pairwise(result.periods):
        assert a.end <= b.start
    if req.mode is PlanMode.CONTINUOUS:
        assert all(a.end == b.start for a, b in itertools.pairwise(result.periods))


@settings(max_examples=200, deadline=None)
@given(small_requests())
def test_cheapest_plans_cost_no_more_than_the_brute_force_optimum(req: PlanRequest) -> None:
    req = dataclasses.replace(req, mode=PlanMode.CHEAPEST)
    result = plan_charging(req)
    power = req.max_current_a * req.kw_per_ampere
    optimum = brute_force_cheapest(req, power) if req.max_current_a >= 6 else None
    if isinstance(result, Infeasible):
        if result.reason in (InfeasibleReason.NOT_ENOUGH_TIME, InfeasibleReason.PRICE_CAP):
            assert optimum is None
        return
    assert optimum is not None
    assert float(result.cost) <= optimum + 1e-4


@settings(max_examples=200, deadline=None)
@given(small_requests())
def test_continuous_plans_are_the_cheapest_single_block(req: PlanRequest) -> None:
    req = dataclasses.replace(req, mode=PlanMode.CONTINUOUS)
    result = plan_charging(req)
    if not isinstance(result, Plan) or not result.periods:
        return
    power = result.periods[0].power_kw
    length = timedelta(hours=energy_wanted(req) / power)
    end = req.departure or req.prices[-1].end
    step = timedelta(minutes=1)
    begin = req.now
    while begin + length <= end:
        cost = block_cost(req, begin, begin + length, power)
        if cost is not None:
            assert float(result.cost) <= cost + 1e-4
        begin += step


def block_cost(req: PlanRequest, begin: datetime, end: datetime, power: float) -> float | None:
    cost = 0.0
    covered = timedelta(0)
    for slot in req.prices:
        a, b = max(slot.start, begin), min(slot.end, end)
        if a < b:
            if req.price_cap is not None and slot.price_per_kwh > req.price_cap:
                return None
            cost += (b - a).total_seconds() / 3600 * power * float(slot.price_per_kwh)
            covered += b - a
    return cost if covered >= end - begin - timedelta(microseconds=10) else None


@settings(max_examples=200, deadline=None)
@given(small_requests(), st.sampled_from(list(PlanMode)))
def test_flat_prices_charge_just_before_the_departure(req: PlanRequest, mode: PlanMode) -> None:
    flat = [dataclasses.replace(s, price_per_kwh=Decimal("0.25")) for s in req.prices]
    departure = req.departure if req.departure and req.departure <= flat[-1].end else None
    req = dataclasses.replace(req, prices=flat, price_cap=None, mode=mode, departure=departure)
    result = plan_charging(req)
    if isinstance(result, Plan) and result.periods:
        assert result.end is not None
        target = departure or flat[-1].end
        assert abs((result.end - target).total_seconds()) < 1e-3
        assert all(a.end == b.start for a, b in itertools.pairwise(result.periods))


def test_energy_epsilon_is_tiny() -> None:
    assert EPSILON_KWH < 1e-6
