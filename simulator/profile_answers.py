"""How a simulated station answers the smart-charging CALLs, from its ``ProfileStore``.

OCPP 1.6 SetChargingProfile 5.16, ClearChargingProfile 5.5, GetCompositeSchedule 5.7, and the
profile of RemoteStartTransaction 5.11; OCPP 2.0.1 K01 SetChargingProfile, K10
ClearChargingProfile, K08 GetCompositeSchedule, and the profile of RequestStartTransaction F01.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from simulator.profiles import TX, VOLTAGE_V, Limit, Profile, ProfileRejected
from simulator.state import StationState

Reply = tuple[dict[str, Any], None]
HARDWARE_CURRENT_A = 16.0  # what the simulated outlet delivers per phase without a limit


def hardware_limit(s: StationState, evse: int) -> Limit:
    """The outlet's own maximum (EVSE 0: every outlet together)."""
    outlets = s.evses if evse == 0 else 1
    return Limit(HARDWARE_CURRENT_A * VOLTAGE_V * 3 * outlets)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _install(
    s: StationState, payload: dict[str, Any], evse: int, *, remote_start: bool = False
) -> str:
    try:
        profile = Profile.from_ocpp(payload, evse, s.clock())
        if remote_start and profile.purpose != TX:
            raise ProfileRejected("a start request carries a TxProfile only")
        s.profiles.install(profile, s.transactions(), remote_start=remote_start)
    except (ProfileRejected, KeyError, ValueError):
        return "Rejected"
    return "Accepted"


def install_start_profile(s: StationState, payload: dict[str, Any], evse: int) -> bool:
    """The TxProfile of a remote start, for the EVSE it takes (before it is reserved)."""
    return _install(s, payload, evse, remote_start=True) == "Accepted"


def _v16_set(p: dict[str, Any], s: StationState) -> Reply:
    return {"status": _install(s, p["csChargingProfiles"], p["connectorId"])}, None


def _v201_set(p: dict[str, Any], s: StationState) -> Reply:
    return {"status": _install(s, p["chargingProfile"], p["evseId"])}, None


def _cleared(found: bool) -> Reply:
    return {"status": "Accepted" if found else "Unknown"}, None


def _v16_clear(p: dict[str, Any], s: StationState) -> Reply:
    return _cleared(
        s.profiles.clear(
            p.get("id"),
            evse=p.get("connectorId"),
            purpose=p.get("chargingProfilePurpose"),
            stack_level=p.get("stackLevel"),
        )
    )


def _v201_clear(p: dict[str, Any], s: StationState) -> Reply:
    criteria = p.get("chargingProfileCriteria") or {}
    return _cleared(
        s.profiles.clear(
            p.get("chargingProfileId"),
            evse=criteria.get("evseId"),
            purpose=criteria.get("chargingProfilePurpose"),
            stack_level=criteria.get("stackLevel"),
        )
    )


def composite_periods(
    s: StationState, evse: int, duration: int, unit: str, start: datetime
) -> list[dict[str, Any]]:
    return s.profiles.composite(
        evse,
        start,
        duration,
        unit=unit,
        hardware=hardware_limit(s, evse),
        transaction=s.transaction(evse) if evse else None,
    )


def _composite_of(
    p: dict[str, Any], s: StationState, evse: int
) -> tuple[str, datetime, list[dict[str, Any]]] | None:
    """The unit, start and periods of a GetCompositeSchedule answer, or None to reject it."""
    duration = p["duration"]
    if not 0 <= evse <= s.evses or duration < 0:
        return None
    unit = p.get("chargingRateUnit", "A")
    start = s.clock().replace(microsecond=0)
    return unit, start, composite_periods(s, evse, duration, unit, start)


def _v16_composite(p: dict[str, Any], s: StationState) -> Reply:
    evse, duration = p["connectorId"], p["duration"]
    composite = _composite_of(p, s, evse)
    if composite is None:
        return {"status": "Rejected"}, None
    unit, start, periods = composite
    return {
        "status": "Accepted",
        "connectorId": evse,
        "scheduleStart": _stamp(start),
        "chargingSchedule": {
            "duration": duration,
            "startSchedule": _stamp(start),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": periods,
        },
    }, None


def _v201_composite(p: dict[str, Any], s: StationState) -> Reply:
    evse, duration = p["evseId"], p["duration"]
    composite = _composite_of(p, s, evse)
    if composite is None:
        return {"status": "Rejected"}, None
    unit, start, periods = composite
    return {
        "status": "Accepted",
        "schedule": {
            "evseId": evse,
            "duration": duration,
            "scheduleStart": _stamp(start),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": periods,
        },
    }, None


Handler = Callable[[dict[str, Any], StationState], Reply]

V16: dict[str, Handler] = {
    "SetChargingProfile": _v16_set,
    "ClearChargingProfile": _v16_clear,
    "GetCompositeSchedule": _v16_composite,
}
V201: dict[str, Handler] = {
    "SetChargingProfile": _v201_set,
    "ClearChargingProfile": _v201_clear,
    "GetCompositeSchedule": _v201_composite,
}
