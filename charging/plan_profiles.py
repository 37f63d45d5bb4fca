"""A plan as an OCPP charging profile: the JSON a station accepts (pure, protocol-shaped dicts).

The plan becomes one ``TxProfile`` of kind ``Absolute`` starting when the plan was made
(``startSchedule``: its ``planned_at``, else its first period), with periods whose
``startPeriod`` starts at 0 and increases (OCPP 1.6 section 3.13, OCPP 2.0.1
K01.FR.31/K01.FR.35): the planned limit while charging, 0 before the first charging period
and between them (a TxProfile with no period in force would leave the station charging at its
default limit), and a last 0 period at the end of the plan, which stops the charging there by
itself (no ``duration``: the zero holds until the transaction ends; a TxProfile ends with its
transaction).

- Times are whole seconds: ``startSchedule`` is rounded down to the second, each later
  boundary is rounded to the nearest second (a plan's partial period may start mid-second).
- Limits are rounded down to 0.1 (the schemas' ``multipleOf``): never above the plan. In ``W``
  the limit is ``current x voltage x phases``.
- The rate unit is the one the station supports (:func:`choose_rate_unit`), amperes first.
- 1.6: ``csChargingProfiles`` for RemoteStartTransaction (no ``transactionId``) and
  SetChargingProfile (with it). 2.0.1: ``chargingProfile`` for RequestStartTransaction (no
  ``transactionId``, K01.FR.03 is for SetChargingProfile) and SetChargingProfile (with it).
- Profile ids and stack levels come from the caller, who keeps them unique per station.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from charging.planner import Plan

RateUnit = Literal["A", "W"]


def choose_rate_unit(supported: Collection[str]) -> RateUnit:
    """``A`` when the station takes amperes (what the planner decides), else ``W``.

    ``supported`` is what the station's configuration says (1.6
    ``ChargingScheduleAllowedChargingRateUnit`` "Current"/"Power", 2.0.1
    ``SmartChargingCtrlr.RateUnit`` "A"/"W").
    """
    names = {s.strip().lower() for s in supported}
    if names & {"a", "current"}:
        return "A"
    if names & {"w", "power"}:
        return "W"
    raise ValueError(f"the station supports no charging rate unit we know: {sorted(supported)}")


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    start_period: int
    limit: float


@dataclass(frozen=True, slots=True)
class Schedule:
    """The plan's limits on the wire's time grid."""

    start: datetime
    unit: RateUnit
    periods: tuple[SchedulePeriod, ...]
    number_phases: int


def plan_schedule(plan: Plan, unit: RateUnit) -> Schedule:
    """The plan as schedule periods, ending with a zero-limit period (the auto-stop)."""
    if not plan.periods:
        raise ValueError("an empty plan has no charging profile")
    first = plan.periods[0].start
    if plan.planned_at is not None and plan.planned_at < first:
        first = plan.planned_at  # zero until the first period, or the station charges at once
    start = first.replace(microsecond=0)
    periods: list[SchedulePeriod] = []

    def add(at: datetime, limit: float) -> None:
        offset = round((at - start).total_seconds())
        if periods and periods[-1].start_period >= offset:
            periods.pop()  # a boundary within a second of the previous one: the later wins
        if periods and periods[-1].limit == limit:
            return
        periods.append(SchedulePeriod(offset, limit))

    previous_end: datetime | None = None
    for period in plan.periods:
        if previous_end is not None and period.start > previous_end:
            add(previous_end, 0.0)
        add(period.start, _limit(period.current_a, plan, unit))
        previous_end = period.end
    assert previous_end is not None
    add(previous_end, 0.0)
    if periods[0].start_period != 0:
        periods.insert(0, SchedulePeriod(0, 0.0))
    return Schedule(start, unit, tuple(periods), plan.phases)


def _limit(current_a: float, plan: Plan, unit: RateUnit) -> float:
    value = current_a if unit == "A" else current_a * plan.voltage_v * plan.phases
    return int(value * 10 + 1e-6) / 10


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _schedule_body(schedule: Schedule) -> dict[str, Any]:
    return {
        "startSchedule": _timestamp(schedule.start),
        "chargingRateUnit": schedule.unit,
        "chargingSchedulePeriod": [
            {
                "startPeriod": p.start_period,
                "limit": p.limit,
                "numberPhases": schedule.number_phases,
            }
            for p in schedule.periods
        ],
    }


def v16_charging_profile(
    plan: Plan,
    *,
    profile_id: int,
    stack_level: int,
    unit: RateUnit,
    transaction_id: int | None = None,
) -> dict[str, Any]:
    """1.6 ``csChargingProfiles``: with ``transaction_id`` for SetChargingProfile, without it
    inside RemoteStartTransaction."""
    profile: dict[str, Any] = {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": _schedule_body(plan_schedule(plan, unit)),
    }
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile


def v16_remote_start_transaction(
    plan: Plan, *, id_tag: str, connector_id: int, profile_id: int, stack_level: int, unit: RateUnit
) -> dict[str, Any]:
    """The RemoteStartTransaction.req payload carrying the plan."""
    return {
        "connectorId": connector_id,
        "idTag": id_tag,
        "chargingProfile": v16_charging_profile(
            plan, profile_id=profile_id, stack_level=stack_level, unit=unit
        ),
    }


def v16_set_charging_profile(
    plan: Plan,
    *,
    connector_id: int,
    transaction_id: int,
    profile_id: int,
    stack_level: int,
    unit: RateUnit,
) -> dict[str, Any]:
    """The SetChargingProfile.req payload for a running transaction."""
    return {
        "connectorId": connector_id,
        "csChargingProfiles": v16_charging_profile(
            plan,
            profile_id=profile_id,
            stack_level=stack_level,
            unit=unit,
            transaction_id=transaction_id,
        ),
    }


def v201_charging_profile(
    plan: Plan,
    *,
    profile_id: int,
    stack_level: int,
    unit: RateUnit,
    transaction_id: str | None = None,
) -> dict[str, Any]:
    """2.0.1 ``ChargingProfileType``; the schedule's id is the profile's."""
    schedule = {"id": profile_id, **_schedule_body(plan_schedule(plan, unit))}
    profile: dict[str, Any] = {
        "id": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [schedule],
    }
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile


def v201_request_start_transaction(
    plan: Plan,
    *,
    id_token: str,
    token_type: str,
    evse_id: int,
    remote_start_id: int,
    profile_id: int,
    stack_level: int,
    unit: RateUnit,
) -> dict[str, Any]:
    """The RequestStartTransactionRequest payload carrying the plan (no transactionId yet)."""
    return {
        "evseId": evse_id,
        "remoteStartId": remote_start_id,
        "idToken": {"idToken": id_token, "type": token_type},
        "chargingProfile": v201_charging_profile(
            plan, profile_id=profile_id, stack_level=stack_level, unit=unit
        ),
    }


def v201_set_charging_profile(
    plan: Plan,
    *,
    evse_id: int,
    transaction_id: str,
    profile_id: int,
    stack_level: int,
    unit: RateUnit,
) -> dict[str, Any]:
    """The SetChargingProfileRequest payload for a running transaction (K01.FR.03)."""
    return {
        "evseId": evse_id,
        "chargingProfile": v201_charging_profile(
            plan,
            profile_id=profile_id,
            stack_level=stack_level,
            unit=unit,
            transaction_id=transaction_id,
        ),
    }


def period_bounds(schedule: Schedule) -> list[tuple[datetime, datetime | None, float]]:
    """Each schedule period as ``(start, end or None for the last, limit)``."""
    out: list[tuple[datetime, datetime | None, float]] = []
    for i, p in enumerate(schedule.periods):
        begin = schedule.start + timedelta(seconds=p.start_period)
        nxt = schedule.periods[i + 1] if i + 1 < len(schedule.periods) else None
        end = schedule.start + timedelta(seconds=nxt.start_period) if nxt else None
        out.append((begin, end, p.limit))
    return out
