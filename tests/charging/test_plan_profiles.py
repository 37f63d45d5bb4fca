"""Plans as OCPP charging profiles, every payload validated against the ocpp package's schemas;
composite schedules and meter readings checked against the plan."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charging.plan_checks import (
    check_metered_power,
    compare_composite,
    parse_composite,
)
from charging.plan_profiles import (
    choose_rate_unit,
    period_bounds,
    plan_schedule,
    v16_charging_profile,
    v16_remote_start_transaction,
    v16_set_charging_profile,
    v201_request_start_transaction,
    v201_set_charging_profile,
)
from charging.planner import Plan, PlanPeriod

SCHEMAS = Path(ocpp.__file__).parent
T0 = datetime(2026, 1, 14, 23, 0, tzinfo=UTC)


def validator(relative: str) -> Callable[[Any], Any]:
    return fastjsonschema.compile(json.loads((SCHEMAS / relative).read_text()))  # type: ignore[no-any-return]


V16_REMOTE_START = validator("v16/schemas/RemoteStartTransaction.json")
V16_SET_PROFILE = validator("v16/schemas/SetChargingProfile.json")
V201_REQUEST_START = validator("v201/schemas/RequestStartTransactionRequest.json")
V201_SET_PROFILE = validator("v201/schemas/SetChargingProfileRequest.json")
V16_COMPOSITE = validator("v16/schemas/GetCompositeScheduleResponse.json")
V201_COMPOSITE = validator("v201/schemas/GetCompositeScheduleResponse.json")


def period(start: datetime, minutes: float, current: float = 16.0) -> PlanPeriod:
    power = current * 230 * 3 / 1000
    return PlanPeriod(
        start=start,
        end=start + timedelta(minutes=minutes),
        current_a=current,
        power_kw=power,
        energy_kwh=power * minutes / 60,
        price_per_kwh=Decimal("0.12"),
    )


# 23:00-23:30 and 01:10:30.4-02:00 at 16 A
PLAN = Plan(
    (
        period(T0, 15),
        period(T0 + timedelta(minutes=15), 15),
        period(T0 + timedelta(hours=2, minutes=10, seconds=30.4), 49.5 - 0.4 / 60),
    ),
    mode="cheapest",  # type: ignore[arg-type]
    phases=3,
    voltage_v=230.0,
)


def test_the_schedule_merges_equal_limits_fills_gaps_with_zero_and_ends_with_zero() -> None:
    schedule = plan_schedule(PLAN, "A")
    assert schedule.start == T0
    assert [(p.start_period, p.limit) for p in schedule.periods] == [
        (0, 16.0),
        (1800, 0.0),
        (7830, 16.0),
        (10800, 0.0),
    ]


def test_watts_are_current_times_voltage_and_phases() -> None:
    schedule = plan_schedule(PLAN, "W")
    assert schedule.periods[0].limit == 11040.0


def test_the_rate_unit_is_what_the_station_supports() -> None:
    assert choose_rate_unit(["Current", "Power"]) == "A"
    assert choose_rate_unit(["W"]) == "W"
    assert choose_rate_unit(["A"]) == "A"
    with pytest.raises(ValueError, match="no charging rate unit"):
        choose_rate_unit([])


def test_v16_remote_start_carries_a_tx_profile_without_transaction_id() -> None:
    payload = v16_remote_start_transaction(
        PLAN, id_tag="APP-1", connector_id=1, profile_id=7, stack_level=2, unit="A"
    )
    V16_REMOTE_START(payload)
    profile = payload["chargingProfile"]
    assert "transactionId" not in profile
    assert profile["chargingProfilePurpose"] == "TxProfile"
    assert profile["chargingProfileKind"] == "Absolute"
    assert profile["chargingSchedule"]["startSchedule"] == "2026-01-14T23:00:00Z"
    assert profile["chargingSchedule"]["chargingSchedulePeriod"][-1] == {
        "startPeriod": 10800,
        "limit": 0.0,
        "numberPhases": 3,
    }


def test_v16_set_charging_profile_names_the_transaction() -> None:
    payload = v16_set_charging_profile(
        PLAN, connector_id=1, transaction_id=42, profile_id=7, stack_level=2, unit="W"
    )
    V16_SET_PROFILE(payload)
    assert payload["csChargingProfiles"]["transactionId"] == 42
    assert payload["csChargingProfiles"]["chargingSchedule"]["chargingRateUnit"] == "W"


def test_v201_request_start_has_no_transaction_id_and_set_profile_has_one() -> None:
    start = v201_request_start_transaction(
        PLAN,
        id_token="APP-1",
        token_type="Central",
        evse_id=1,
        remote_start_id=5,
        profile_id=9,
        stack_level=1,
        unit="A",
    )
    V201_REQUEST_START(start)
    assert "transactionId" not in start["chargingProfile"]
    schedule = start["chargingProfile"]["chargingSchedule"][0]
    assert schedule["id"] == 9
    assert schedule["chargingSchedulePeriod"][0]["startPeriod"] == 0
    later = v201_set_charging_profile(
        PLAN, evse_id=1, transaction_id="tx-1", profile_id=9, stack_level=1, unit="A"
    )
    V201_SET_PROFILE(later)
    assert later["chargingProfile"]["transactionId"] == "tx-1"


def test_an_empty_plan_has_no_profile() -> None:
    empty = Plan((), mode="cheapest", phases=3, voltage_v=230.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty plan"):
        v16_charging_profile(empty, profile_id=1, stack_level=0, unit="A")


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    start = T0 + timedelta(microseconds=draw(st.integers(0, 999_999)))
    periods = []
    for _ in range(draw(st.integers(1, 6))):
        start += timedelta(seconds=draw(st.floats(0, 3600)))
        minutes = draw(st.floats(0.01, 60))
        periods.append(period(start, minutes, draw(st.floats(6, 32))))
        start = periods[-1].end
    return Plan(
        tuple(periods), mode="cheapest", phases=draw(st.sampled_from([1, 3])), voltage_v=230.0
    )  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(plans(), st.sampled_from(["A", "W"]))
def test_every_profile_is_valid_and_never_above_the_plan(plan: Plan, unit: str) -> None:
    payloads = [
        (
            V16_REMOTE_START,
            v16_remote_start_transaction(
                plan, id_tag="T", connector_id=1, profile_id=1, stack_level=0, unit=unit
            ),
        ),  # type: ignore[arg-type]
        (
            V16_SET_PROFILE,
            v16_set_charging_profile(
                plan, connector_id=1, transaction_id=1, profile_id=1, stack_level=0, unit=unit
            ),
        ),  # type: ignore[arg-type]
        (
            V201_REQUEST_START,
            v201_request_start_transaction(
                plan,
                id_token="T",
                token_type="Central",
                evse_id=1,
                remote_start_id=1,
                profile_id=1,
                stack_level=0,
                unit=unit,
            ),
        ),  # type: ignore[arg-type]
        (
            V201_SET_PROFILE,
            v201_set_charging_profile(
                plan, evse_id=1, transaction_id="t", profile_id=1, stack_level=0, unit=unit
            ),
        ),  # type: ignore[arg-type]
    ]
    for validate, payload in payloads:
        validate(payload)
    schedule = plan_schedule(plan, unit)  # type: ignore[arg-type]
    offsets = [p.start_period for p in schedule.periods]
    assert offsets[0] == 0
    assert offsets == sorted(set(offsets))
    assert schedule.periods[-1].limit == 0.0
    top = max(p.current_a for p in plan.periods)
    scale = 1.0 if unit == "A" else 230.0 * plan.phases
    assert all(p.limit <= top * scale + 1e-9 for p in schedule.periods)


def composite_v16(limits: list[tuple[int, float]], duration: int) -> dict[str, Any]:
    payload = {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2026-01-14T23:00:00Z",
        "chargingSchedule": {
            "duration": duration,
            "startSchedule": "2026-01-14T23:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in limits],
        },
    }
    V16_COMPOSITE(payload)
    return payload


def test_a_composite_schedule_equal_to_the_plan_has_no_deviation() -> None:
    schedule = plan_schedule(PLAN, "A")
    answer = composite_v16([(p.start_period, p.limit) for p in schedule.periods], 86400)
    assert compare_composite(schedule, parse_composite(answer), voltage_v=230) == []


def test_a_composite_schedule_over_the_plan_is_flagged_where_it_is_over() -> None:
    schedule = plan_schedule(PLAN, "A")
    answer = composite_v16([(0, 16.0), (1800, 32.0), (7830, 16.0), (10800, 0.0)], 86400)
    [deviation] = compare_composite(schedule, parse_composite(answer), voltage_v=230)
    assert deviation.kind == "over"
    assert (deviation.start, deviation.end) == (
        T0 + timedelta(seconds=1800),
        T0 + timedelta(seconds=7830),
    )
    assert (deviation.planned_limit, deviation.station_limit) == (0.0, 32.0)


def test_a_v201_composite_in_watts_ending_early_is_converted_and_missing_flagged() -> None:
    schedule = plan_schedule(PLAN, "A")
    answer = {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 9000,
            "scheduleStart": "2026-01-14T23:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 11040.0},
                {"startPeriod": 1800, "limit": 0.0},
                {"startPeriod": 7830, "limit": 5520.0},
            ],
        },
    }
    V201_COMPOSITE(answer)
    deviations = compare_composite(schedule, parse_composite(answer), voltage_v=230)
    assert [(d.kind, d.planned_limit, d.station_limit) for d in deviations] == [
        ("under", 16.0, 8.0),
        ("missing", 16.0, None),
    ]
    assert deviations[1].start == T0 + timedelta(seconds=9000)
    assert deviations[1].end == T0 + timedelta(seconds=10800)


def test_a_rejected_composite_request_raises() -> None:
    with pytest.raises(ValueError, match="Rejected"):
        parse_composite({"status": "Rejected"})


def test_metered_power_over_the_plan_is_flagged_beyond_the_tolerance() -> None:
    samples = [
        (T0 + timedelta(minutes=5), 11.3),  # within tolerance
        (T0 + timedelta(minutes=10), 13.0),  # over 11.04 kW
        (T0 + timedelta(minutes=45), 0.4),  # idle noise
        (T0 + timedelta(minutes=50), 7.0),  # charging in a gap of the plan
    ]
    flagged = check_metered_power(PLAN, samples)
    assert [(f.at, f.drawn_kw, f.allowed_kw) for f in flagged] == [
        (T0 + timedelta(minutes=10), 13.0, pytest.approx(11.04)),
        (T0 + timedelta(minutes=50), 7.0, 0.0),
    ]


def test_period_bounds_give_each_period_its_end() -> None:
    bounds = period_bounds(plan_schedule(PLAN, "A"))
    assert bounds[0] == (T0, T0 + timedelta(seconds=1800), 16.0)
    assert bounds[-1] == (T0 + timedelta(seconds=10800), None, 0.0)


def test_a_planned_night_charge_becomes_a_profile_that_stops_at_the_plan_end() -> None:
    from charging.planner import PlanRequest, plan_charging
    from charging.prices import PriceSlot

    slots = [
        PriceSlot(
            T0 + timedelta(minutes=15 * i),
            T0 + timedelta(minutes=15 * (i + 1)),
            Decimal("0.10") if 8 <= i < 24 else Decimal("0.30"),
        )
        for i in range(32)
    ]
    plan = plan_charging(
        PlanRequest(
            now=T0,
            prices=slots,
            energy_kwh=20.0,
            departure=T0 + timedelta(hours=8),
            station_max_current_a=16.0,
        )
    )
    assert isinstance(plan, Plan)
    payload = v201_set_charging_profile(
        plan, evse_id=1, transaction_id="tx", profile_id=3, stack_level=1, unit="A"
    )
    V201_SET_PROFILE(payload)
    schedule = plan_schedule(plan, "A")
    assert plan.end == T0 + timedelta(hours=6)
    assert schedule.start == T0  # held at zero from the request until the night window
    assert schedule.start + timedelta(seconds=schedule.periods[-1].start_period) == plan.end
    assert [p.limit for p in schedule.periods] == [0.0, 16.0, 0.0]
