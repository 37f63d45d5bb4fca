"""A simulated station's charging profiles: stacking, the composite schedule, what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpp_edge.frames import DIALECTS
from ocpp_edge.schemas import Schemas
from simulator.answers import StartSession, answer
from simulator.meter import Meter
from simulator.profiles import (
    MAX,
    TX,
    TX_DEFAULT,
    Limit,
    Profile,
    ProfileStore,
    Transaction,
)
from simulator.state import StationState

NOW = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
W_PER_A = 230.0 * 3  # one ampere on three phases


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _profile(
    profile_id: int,
    purpose: str,
    periods: list[tuple[int, float]],
    *,
    stack: int = 0,
    kind: str = "Absolute",
    unit: str = "A",
    start: datetime | None = NOW,
    **more: Any,
) -> dict[str, Any]:
    """A 1.6 csChargingProfiles."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": limit} for s, limit in periods],
    }
    if start is not None:
        schedule["startSchedule"] = _stamp(start)
    if "duration" in more:
        schedule["duration"] = more.pop("duration")
    return {
        "chargingProfileId": profile_id,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
        **more,
    }


def _v201(payload: dict[str, Any]) -> dict[str, Any]:
    """The same profile in 2.0.1 shape."""
    profile = {k: v for k, v in payload.items() if k not in ("chargingProfileId",)}
    profile["id"] = payload["chargingProfileId"]
    profile["chargingSchedule"] = [{"id": 1, **payload["chargingSchedule"]}]
    if "transactionId" in profile:
        profile["transactionId"] = str(profile["transactionId"])
    return profile


def _store(*profiles: tuple[dict[str, Any], int], version: str = "1.6") -> ProfileStore:
    store = ProfileStore(version, evses=2)
    running = {1: Transaction("17", NOW)}
    for payload, evse in profiles:
        store.install(Profile.from_ocpp(payload, evse, NOW), running)
    return store


def _amperes(store: ProfileStore, evse: int, at: datetime, tx: Transaction | None) -> float | None:
    limit = store.limit_at(evse, at, tx)
    return None if limit is None else round(limit.amperes(), 3)


TX17 = Transaction("17", NOW)


# -- stacking ---------------------------------------------------------------------------------


def test_the_highest_stack_level_wins_and_the_lower_one_holds_outside_its_duration() -> None:
    store = _store(
        (_profile(1, TX_DEFAULT, [(0, 16)], stack=0), 1),
        (_profile(2, TX_DEFAULT, [(0, 8)], stack=1, duration=3600), 1),
    )
    assert _amperes(store, 1, NOW + timedelta(minutes=30), TX17) == 8
    assert _amperes(store, 1, NOW + timedelta(minutes=90), TX17) == 16


def test_a_tx_profile_overrides_the_default_and_the_station_maximum_caps_both() -> None:
    store = _store(
        (_profile(1, TX_DEFAULT, [(0, 10)]), 0),
        (_profile(2, TX, [(0, 20), (1800, 6)], stack=3), 1),
        (_profile(3, "ChargePointMaxProfile", [(0, 12)]), 0),
    )
    assert _amperes(store, 1, NOW, TX17) == 12  # Tx 20 A, capped at 12
    assert _amperes(store, 1, NOW + timedelta(hours=1), TX17) == 6
    assert _amperes(store, 2, NOW, None) == 10  # no transaction there: EVSE 0's default
    assert _amperes(store, 0, NOW, None) == 12  # EVSE 0: the station maximum only


def test_the_station_maximum_is_shared_by_the_evses_charging() -> None:
    store = _store((_profile(1, "ChargePointMaxProfile", [(0, 20)]), 0))
    assert _amperes(store, 1, NOW, TX17) == 20
    assert store.limit_at(1, NOW, TX17, sharing=2) == Limit(10 * W_PER_A)


def test_a_default_on_the_evse_overrides_the_one_on_evse_zero() -> None:
    store = _store((_profile(1, TX_DEFAULT, [(0, 10)]), 0), (_profile(2, TX_DEFAULT, [(0, 7)]), 2))
    assert _amperes(store, 1, NOW, None) == 10
    assert _amperes(store, 2, NOW, None) == 7


def test_external_constraints_cap_like_the_station_maximum() -> None:
    store = _store(
        (_profile(1, TX_DEFAULT, [(0, 16)]), 1),
        (_profile(2, "ChargingStationExternalConstraints", [(0, 9)]), 0),
        version="2.0.1",
    )
    assert _amperes(store, 1, NOW, None) == 9


def test_relative_profiles_count_from_the_transaction_start() -> None:
    store = _store((_profile(1, TX, [(0, 6), (600, 16)], kind="Relative", start=None), 1))
    started = Transaction("17", NOW - timedelta(minutes=5))
    assert _amperes(store, 1, NOW, started) == 6
    assert _amperes(store, 1, NOW + timedelta(minutes=6), started) == 16


def test_a_daily_profile_recurs_and_a_weekly_one_waits_a_week() -> None:
    night = _profile(
        1,
        TX_DEFAULT,
        [(0, 16), (8 * 3600, 0)],  # 22:00-06:00 full power, then nothing
        kind="Recurring",
        recurrencyKind="Daily",
        start=NOW - timedelta(days=10),
    )
    weekly = _profile(
        2,
        TX_DEFAULT,
        [(0, 5)],
        stack=1,
        kind="Recurring",
        recurrencyKind="Weekly",
        start=NOW - timedelta(days=7),
        duration=3600,
    )
    store = _store((night, 1), (weekly, 2))
    assert _amperes(store, 1, NOW + timedelta(days=3, hours=2), None) == 16
    assert _amperes(store, 1, NOW + timedelta(days=3, hours=9), None) == 0
    assert _amperes(store, 2, NOW + timedelta(minutes=30), None) == 5
    assert _amperes(store, 2, NOW + timedelta(days=1), None) is None
    assert _amperes(store, 2, NOW + timedelta(days=7, minutes=10), None) == 5


def test_valid_from_and_valid_to_bound_a_profile() -> None:
    store = _store(
        (
            _profile(
                1,
                TX_DEFAULT,
                [(0, 8)],
                validFrom=_stamp(NOW + timedelta(hours=1)),
                validTo=_stamp(NOW + timedelta(hours=2)),
            ),
            1,
        )
    )
    assert _amperes(store, 1, NOW, None) is None
    assert _amperes(store, 1, NOW + timedelta(minutes=90), None) == 8
    assert _amperes(store, 1, NOW + timedelta(hours=2), None) is None


def test_watts_and_amperes_compare_with_phases_and_230_volts() -> None:
    one_phase = _profile(1, TX_DEFAULT, [(0, 10)])
    one_phase["chargingSchedule"]["chargingSchedulePeriod"][0]["numberPhases"] = 1
    store = _store((one_phase, 1), (_profile(2, MAX, [(0, 4000)], unit="W"), 0), version="2.0.1")
    assert store.limit_at(1, NOW) == Limit(2300.0, 1)  # 10 A on one phase < 4 kW
    store = _store(
        (_profile(1, TX_DEFAULT, [(0, 10)]), 1), (_profile(2, MAX, [(0, 4000)], unit="W"), 0)
    )
    assert store.limit_at(1, NOW) == Limit(4000.0, 3)  # 10 A on three phases = 6.9 kW > 4 kW


# -- the composite schedule -----------------------------------------------------------------


def _state(version: str) -> StationState:
    state = StationState(version, evses=2)
    state.clock = lambda: NOW
    return state


def _set(state: StationState, payload: dict[str, Any], evse: int) -> str:
    if state.version == "1.6":
        request = {"connectorId": evse, "csChargingProfiles": payload}
    else:
        request = {"evseId": evse, "chargingProfile": _v201(payload)}
    Schemas(DIALECTS[state.version]).validate("SetChargingProfile", request, response=False)
    reply, _ = answer("SetChargingProfile", request, state)
    return str(reply["status"])


def _composite(state: StationState, evse: int, duration: int, unit: str) -> dict[str, Any]:
    key = "connectorId" if state.version == "1.6" else "evseId"
    request = {key: evse, "duration": duration, "chargingRateUnit": unit}
    schemas = Schemas(DIALECTS[state.version])
    schemas.validate("GetCompositeSchedule", request, response=False)
    reply, _ = answer("GetCompositeSchedule", request, state)
    schemas.validate("GetCompositeSchedule", reply, response=True)
    return reply


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_the_composite_schedule_stacks_the_profiles_and_passes_the_schema(version: str) -> None:
    state = _state(version)
    assert _set(state, _profile(1, TX_DEFAULT, [(0, 16), (3600, 8)]), 1) == "Accepted"
    assert _set(state, _profile(2, TX_DEFAULT, [(0, 6)], stack=2, duration=1800), 1) == "Accepted"
    purpose = "ChargePointMaxProfile" if version == "1.6" else MAX
    assert _set(state, _profile(3, purpose, [(0, 5000)], unit="W"), 0) == "Accepted"

    reply = _composite(state, 1, 7200, "A")
    schedule = reply["chargingSchedule"] if version == "1.6" else reply["schedule"]
    assert reply["status"] == "Accepted"
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 6.0, "numberPhases": 3},
        {"startPeriod": 1800, "limit": 7.2, "numberPhases": 3},  # 5 kW / 690 V, rounded down
    ]
    watts = _composite(state, 1, 7200, "W")
    periods = (watts.get("chargingSchedule") or watts["schedule"])["chargingSchedulePeriod"]
    assert [p["limit"] for p in periods] == [4140.0, 5000.0]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_without_profiles_the_composite_is_the_outlets_own_power(version: str) -> None:
    reply = _composite(_state(version), 1, 600, "A")
    schedule = reply.get("chargingSchedule") or reply["schedule"]
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}
    ]
    key = "connectorId" if version == "1.6" else "evseId"
    unknown, _ = answer("GetCompositeSchedule", {key: 9, "duration": 60}, _state(version))
    assert unknown == {"status": "Rejected"}


_LIMITS = st.floats(0, 32).map(lambda a: round(a, 1))
_KINDS = st.sampled_from(["Absolute", "Relative", "Daily", "Weekly"])
_PROFILES = st.lists(
    st.tuples(
        st.sampled_from([TX_DEFAULT, TX, "ChargePointMaxProfile"]),
        _KINDS,
        st.integers(0, 3),  # stack level
        st.lists(st.tuples(st.integers(1, 7200), _LIMITS), max_size=4),
        _LIMITS,
        st.integers(-3600, 3600),  # start offset from now
        st.none() | st.integers(60, 7200),  # duration
        st.sampled_from(["A", "W"]),
    ),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(profiles=_PROFILES, probes=st.lists(st.integers(0, 3 * 3600 - 1), min_size=1, max_size=8))
def test_the_composite_never_exceeds_any_applicable_profile(
    profiles: list[tuple[str, str, int, list[tuple[int, float]], float, int, int | None, str]],
    probes: list[int],
) -> None:
    store = ProfileStore("1.6", evses=1)
    for n, (purpose, kind, stack, later, first, offset, duration, unit) in enumerate(profiles):
        periods = [(0, first), *sorted(dict(later).items())]
        if unit == "W":
            periods = [(s, round(limit * W_PER_A, 1)) for s, limit in periods]
        more: dict[str, Any] = {} if duration is None else {"duration": duration}
        if kind in ("Daily", "Weekly"):
            more |= {"kind": "Recurring", "recurrencyKind": kind}
        elif kind == "Relative":
            more |= {"kind": "Relative", "start": None}
        payload = _profile(
            n + 1,
            purpose,
            periods,
            stack=stack,
            **{"start": NOW + timedelta(seconds=offset), "unit": unit, **more},
        )
        store.install(Profile.from_ocpp(payload, 0 if "Max" in purpose else 1, NOW), {1: TX17})
    hardware = Limit(16 * W_PER_A)
    periods_a = store.composite(1, NOW, 3 * 3600, unit="A", hardware=hardware, transaction=TX17)
    assert periods_a[0]["startPeriod"] == 0
    assert [p["startPeriod"] for p in periods_a] == sorted({p["startPeriod"] for p in periods_a})
    for probe in probes:
        at = NOW + timedelta(seconds=probe)
        composite = [p for p in periods_a if p["startPeriod"] <= probe][-1]["limit"]
        assert composite <= 16.0
        stacked = store.limit_at(1, at, TX17)
        if stacked is not None:
            assert composite == pytest.approx(min(16.0, stacked.amperes()), abs=0.1)
        for purpose in (TX, MAX):
            candidates = [p for p in store.profiles.values() if p.purpose == purpose]
            winner = next(
                (
                    limit
                    for p in sorted(candidates, key=lambda p: -p.stack_level)
                    if (limit := p.limit_at(at, TX17.started)) is not None
                ),
                None,
            )
            if winner is not None:
                assert composite <= winner.amperes() + 1e-9


# -- what the station refuses and clears -----------------------------------------------------


@pytest.mark.parametrize(
    ("version", "payload", "evse"),
    [
        ("1.6", _profile(1, TX, [(0, 8)]), 2),  # no transaction on connector 2
        ("1.6", _profile(1, TX, [(0, 8)], transactionId=99), 1),  # another transaction
        ("1.6", _profile(1, TX, [(0, 8)]), 0),  # TxProfile on connector 0
        ("1.6", _profile(1, "ChargePointMaxProfile", [(0, 8)]), 1),  # maximum not on 0
        ("1.6", _profile(1, TX_DEFAULT, [(0, 8)]), 3),  # no such connector
        ("1.6", _profile(1, TX_DEFAULT, [(60, 8)]), 1),  # first period not at 0
        ("1.6", _profile(1, TX_DEFAULT, [(0, 8), (0, 6)]), 1),  # periods not increasing
        ("1.6", _profile(1, TX_DEFAULT, [(0, 8)], kind="Recurring"), 1),  # no recurrencyKind
        ("2.0.1", _profile(1, TX, [(0, 8)]), 1),  # TxProfile without transactionId
        ("2.0.1", _profile(1, TX, [(0, 8)], transactionId="other"), 1),
        ("2.0.1", _profile(1, TX_DEFAULT, [(0, 8)], start=None), 1),  # Absolute, no start
        ("2.0.1", _profile(1, TX_DEFAULT, [(0, 8)], kind="Relative"), 1),  # Relative, start
        ("2.0.1", _profile(1, MAX, [(0, 8)]), 2),
    ],
)
def test_profiles_a_station_cannot_follow_are_rejected(
    version: str, payload: dict[str, Any], evse: int
) -> None:
    state = _state(version)
    state.sessions[1] = "17"
    state.started[1] = NOW
    assert _set(state, payload, evse) == "Rejected"
    assert state.profiles.profiles == {}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_tx_profile_for_the_running_transaction_is_accepted(version: str) -> None:
    state = _state(version)
    state.sessions[1] = "17"
    state.started[1] = NOW
    assert _set(state, _profile(1, TX, [(0, 8)], transactionId=17), 1) == "Accepted"
    state.profiles.transaction_ended(1)
    assert state.profiles.profiles == {}


def test_the_same_stack_level_and_purpose_replaces_in_16_and_is_rejected_in_201() -> None:
    old = _state("1.6")
    assert _set(old, _profile(1, TX_DEFAULT, [(0, 8)], stack=2), 1) == "Accepted"
    assert _set(old, _profile(2, TX_DEFAULT, [(0, 6)], stack=2), 1) == "Accepted"
    assert list(old.profiles.profiles) == [2]
    new = _state("2.0.1")
    assert _set(new, _profile(1, TX_DEFAULT, [(0, 8)], stack=2), 1) == "Accepted"
    assert _set(new, _profile(2, TX_DEFAULT, [(0, 6)], stack=2), 1) == "Rejected"
    assert _set(new, _profile(1, TX_DEFAULT, [(0, 6)], stack=2), 1) == "Accepted"  # same id
    assert new.profiles.profiles[1].periods[0].limit == 6


def test_clear_goes_by_id_or_by_every_criterion_given() -> None:
    state = _state("1.6")
    for n, (purpose, stack, evse) in enumerate(
        [
            (TX_DEFAULT, 0, 1),
            (TX_DEFAULT, 1, 1),
            (TX_DEFAULT, 1, 2),
            ("ChargePointMaxProfile", 0, 0),
        ]
    ):
        _set(state, _profile(n + 1, purpose, [(0, 8)], stack=stack), evse)
    clear = lambda **p: answer("ClearChargingProfile", p, state)[0]["status"]  # noqa: E731
    assert clear(id=9) == "Unknown"
    assert clear(id=1, connectorId=2) == "Accepted"  # the id alone decides
    assert sorted(state.profiles.profiles) == [2, 3, 4]
    assert clear(chargingProfilePurpose=TX_DEFAULT, stackLevel=1, connectorId=2) == "Accepted"
    assert sorted(state.profiles.profiles) == [2, 4]
    assert clear(chargingProfilePurpose=TX_DEFAULT, connectorId=0) == "Unknown"
    assert clear() == "Accepted"
    assert state.profiles.profiles == {}

    new = _state("2.0.1")
    _set(new, _profile(1, TX_DEFAULT, [(0, 8)]), 1)
    _set(new, _profile(2, MAX, [(0, 8)]), 0)
    request = {"chargingProfileCriteria": {"evseId": 0, "chargingProfilePurpose": MAX}}
    Schemas(DIALECTS["2.0.1"]).validate("ClearChargingProfile", request, response=False)
    assert answer("ClearChargingProfile", request, new)[0]["status"] == "Accepted"
    assert list(new.profiles.profiles) == [1]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_start_requests_profile_installs_as_the_tx_profile(version: str) -> None:
    state = _state(version)
    profile = _profile(5, TX, [(0, 10)], kind="Relative", start=None)
    if version == "1.6":
        action, request = "RemoteStartTransaction", {"idTag": "CARD", "chargingProfile": profile}
        wrong = {"idTag": "CARD", "chargingProfile": _profile(6, TX_DEFAULT, [(0, 10)])}
    else:
        action = "RequestStartTransaction"
        ids = {"idToken": {"idToken": "CARD", "type": "ISO14443"}, "remoteStartId": 1}
        request = {**ids, "chargingProfile": _v201(profile)}
        wrong = {**ids, "chargingProfile": _v201(_profile(6, TX_DEFAULT, [(0, 10)]))}
    schemas = Schemas(DIALECTS[version])
    schemas.validate(action, wrong, response=False)
    assert answer(action, wrong, state)[0]["status"] == "Rejected"
    assert state.sessions == {}
    schemas.validate(action, request, response=False)
    reply, effect = answer(action, request, state)
    assert reply["status"] == "Accepted" and isinstance(effect, StartSession)
    assert state.profiles.profiles[5].evse == effect.evse_id == 1
    state.sessions[1], state.started[1] = "17", NOW
    assert _amperes(state.profiles, 1, NOW, state.transaction(1)) == 10


# -- the meter ------------------------------------------------------------------------------


def test_the_meter_draws_the_limit_or_the_cars_wish_whichever_is_less() -> None:
    meter = Meter("limits")
    meter.plug_in()
    meter.soc = 20.0
    assert meter.advance(60, Limit(8 * W_PER_A)).power_w <= 8 * W_PER_A
    assert max(meter.advance(60, Limit(8 * W_PER_A)).current_a) <= 8.0
    assert meter.advance(60, Limit(5 * W_PER_A)).power_w == 0.0  # under 6 A: paused
    assert meter.advance(60, Limit(50 * W_PER_A)).power_w > 15 * W_PER_A  # the car's 16 A
    assert meter.advance(60).power_w > 15 * W_PER_A
    one_phase = meter.advance(60, Limit(10 * 230.0, 1))
    assert one_phase.current_a[1:] == (0.0, 0.0) and 9.0 < one_phase.current_a[0] <= 10.0
