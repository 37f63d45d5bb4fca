"""The simulator's pure parts: the meter, the messages it builds, the answers it gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocpp_edge.frames import DIALECTS
from ocpp_edge.schemas import Schemas
from simulator.answers import (
    Reboot,
    SendMessage,
    StartSession,
    StopSession,
    answer,
)
from simulator.link import station_url
from simulator.messages import ChargingSession, messages_for
from simulator.meter import Meter
from simulator.state import StationState


@given(seed=st.text(max_size=10), steps=st.lists(st.floats(0, 3600), min_size=1, max_size=30))
def test_the_energy_register_never_falls_and_soc_stays_in_range(
    seed: str, steps: list[float]
) -> None:
    meter = Meter(seed)
    meter.plug_in()
    last = meter.read()
    for seconds in steps:
        reading = meter.advance(seconds)
        assert reading.energy_wh >= last.energy_wh
        assert 0 <= reading.soc_percent <= 100
        last = reading


def test_charging_tapers_above_eighty_percent() -> None:
    meter = Meter("taper")
    meter.plug_in()
    meter.soc = 50.0
    bulk = meter.advance(1).power_w
    meter.soc = 95.0
    assert meter.advance(1).power_w < bulk / 3


@settings(max_examples=50)
@given(
    version=st.sampled_from(["1.6", "2.0.1", "2.1"]),
    seconds=st.floats(0, 7200),
    evse=st.integers(1, 4),
    tag=st.text("ABCDEF0123456789", min_size=1, max_size=20),
)
def test_every_message_the_station_builds_passes_its_schema(
    version: str, seconds: float, evse: int, tag: str
) -> None:
    schemas = Schemas(DIALECTS[version])
    build = messages_for(version)
    meter = Meter(tag)
    session = ChargingSession(evse, tag, f"tx-{tag}", transaction_ref="17", remote_start_id=3)
    reading = meter.advance(seconds)
    for action, payload in (
        build.boot("SERIAL-1", "PowerUp"),
        build.status(evse, "Charging"),
        build.authorize(tag),
        build.started(session, reading, remote=True),
        build.meter(session, reading),
        build.ended(session, reading),
        build.idle_meter(evse, reading),
    ):
        schemas.validate(action, payload, response=False)


def test_unknown_versions_are_refused() -> None:
    with pytest.raises(
        ValueError, match=r"^the simulator speaks OCPP 1.6, 2.0.1 and 2.1, not '2.2'$"
    ):
        messages_for("2.2")


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("ws://h:9000", "ws://h:9000/ocpp/CP-1"),
        ("ws://h:9000/", "ws://h:9000/ocpp/CP-1"),
        ("ws://h:9000/ocpp", "ws://h:9000/ocpp/CP-1"),
        ("wss://h/csms/ocpp/", "wss://h/csms/ocpp/CP-1"),
    ],
)
def test_the_station_url_appends_the_id(base: str, url: str) -> None:
    assert station_url(base, "CP-1") == url


def test_remote_start_picks_a_free_evse_and_refuses_when_all_are_busy() -> None:
    state = StationState("2.0.1", evses=2)
    state.sessions[1] = "tx-1"
    request = {"idToken": {"idToken": "T", "type": "ISO14443"}, "remoteStartId": 5}
    assert answer("RequestStartTransaction", request, state) == (
        {"status": "Accepted"},
        StartSession(2, "T", 5),
    )
    state.sessions[2] = "tx-2"
    assert answer("RequestStartTransaction", request, state) == ({"status": "Rejected"}, None)


@pytest.mark.parametrize(
    ("version", "action", "request_"),
    [
        ("1.6", "RemoteStartTransaction", {"idTag": "T"}),
        (
            "2.0.1",
            "RequestStartTransaction",
            {"idToken": {"idToken": "T", "type": "ISO14443"}, "remoteStartId": 1},
        ),
        (
            "2.1",
            "RequestStartTransaction",
            {"idToken": {"idToken": "T", "type": "ISO14443"}, "remoteStartId": 1},
        ),
    ],
)
def test_an_accepted_remote_start_takes_the_evse_before_the_session_begins(
    version: str, action: str, request_: dict[str, object]
) -> None:
    state = StationState(version)
    reply, effect = answer(action, request_, state)
    assert reply == {"status": "Accepted"}
    assert isinstance(effect, StartSession) and effect.evse_id == 1
    assert answer(action, request_, state) == ({"status": "Rejected"}, None)


def test_remote_stop_names_the_running_transaction() -> None:
    state = StationState("1.6")
    state.sessions[1] = "7"
    assert answer("RemoteStopTransaction", {"transactionId": 7}, state) == (
        {"status": "Accepted"},
        StopSession("7", "Remote"),
    )


def test_an_on_idle_reset_during_a_transaction_is_scheduled() -> None:
    state = StationState("2.0.1")
    state.sessions[1] = "tx"
    assert answer("Reset", {"type": "OnIdle"}, state) == ({"status": "Scheduled"}, Reboot(False))
    assert answer("Reset", {"type": "Hard"}, StationState("1.6")) == (
        {"status": "Accepted"},
        Reboot(True),
    )


def test_write_only_settings_are_never_read_back() -> None:
    state = StationState("1.6")
    reply, _ = answer("GetConfiguration", {"key": ["AuthorizationKey"]}, state)
    assert reply == {"configurationKey": [], "unknownKey": ["AuthorizationKey"]}
    full, _ = answer("GetConfiguration", {}, state)
    assert "AuthorizationKey" not in {k["key"] for k in full["configurationKey"]}


def test_a_differential_list_adds_and_removes_entries() -> None:
    state = StationState("1.6")
    answer(
        "SendLocalList",
        {
            "listVersion": 1,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "A", "idTagInfo": {"status": "Accepted"}}],
        },
        state,
    )
    reply, _ = answer(
        "SendLocalList",
        {
            "listVersion": 2,
            "updateType": "Differential",
            "localAuthorizationList": [
                {"idTag": "A"},
                {"idTag": "B", "idTagInfo": {"status": "Blocked"}},
            ],
        },
        state,
    )
    assert reply == {"status": "Accepted"}
    assert state.local_list == {"B": {"status": "Blocked"}}
    assert state.local_list_version == 2


def test_triggers_outside_the_station_are_refused() -> None:
    state = StationState("1.6")
    assert answer("TriggerMessage", {"requestedMessage": "Heartbeat", "connectorId": 3}, state) == (
        {"status": "Rejected"},
        None,
    )
    assert answer("TriggerMessage", {"requestedMessage": "Heartbeat"}, state) == (
        {"status": "Accepted"},
        SendMessage("Heartbeat", None),
    )
    assert answer(
        "TriggerMessage", {"requestedMessage": "SignV2GCertificate"}, StationState("2.0.1")
    )[0] == {"status": "NotImplemented"}


def test_actions_the_simulator_lacks_raise_not_implemented() -> None:
    with pytest.raises(NotImplementedError, match="^ReserveNow$"):
        answer(
            "ReserveNow",
            {
                "connectorId": 1,
                "expiryDate": "2026-01-01T00:00:00Z",
                "idTag": "A",
                "reservationId": 1,
            },
            StationState("1.6"),
        )
