"""The gateway over real sockets: handshake rules, raw frames, commands, replacement."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from charging.commands import Reset, ResetMode
from ocpp_edge.session import CommandTimeout, StationCallError, StationOffline
from tests.eventually import eventually
from tests.gateway.conftest import RunningGateway, basic

BOOT = [2, "b1", "BootNotification", {"chargePointVendor": "ACME", "chargePointModel": "X1"}]


async def _refused(url: str, **kwargs: object) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, **kwargs):  # type: ignore[arg-type]
            pass
    return info.value


async def test_a_station_boots_and_heartbeats_over_ocpp16(running: RunningGateway) -> None:
    async with connect(
        f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
    ) as ws:
        assert ws.subprotocol == "ocpp1.6"
        await ws.send(json.dumps(BOOT))
        assert json.loads(await ws.recv()) == [
            3,
            "b1",
            {"status": "Accepted", "currentTime": "2026-11-21T12:00:00Z", "interval": 300},
        ]
        await ws.send(json.dumps([2, "h1", "Heartbeat", {}]))
        assert json.loads(await ws.recv()) == [3, "h1", {"currentTime": "2026-11-21T12:00:00Z"}]
    assert running.sink.connections == [("CP-1", "1.6")]


async def test_the_station_preference_picks_the_version(running: RunningGateway) -> None:
    async with connect(
        f"{running.url}/ocpp/CP-1",
        subprotocols=["ocpp2.0.1", "ocpp1.6"],
        additional_headers=basic("CP-1"),
    ) as ws:
        assert ws.subprotocol == "ocpp2.0.1"


async def test_no_known_subprotocol_is_refused_at_the_handshake(running: RunningGateway) -> None:
    refused = await _refused(
        f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.2"], additional_headers=basic("CP-1")
    )
    assert refused.response.status_code == 400
    assert b"offer one of the subprotocols" in refused.response.body
    refused = await _refused(f"{running.url}/ocpp/CP-1", additional_headers=basic("CP-1"))
    assert refused.response.status_code == 400


async def test_a_wrong_password_is_401_at_the_handshake(running: RunningGateway) -> None:
    refused = await _refused(
        f"{running.url}/ocpp/CP-1",
        subprotocols=["ocpp1.6"],
        additional_headers=basic("CP-1", "wrong-password-123456"),
    )
    assert refused.response.status_code == 401
    assert refused.response.headers["WWW-Authenticate"].startswith("Basic")


async def test_missing_credentials_are_401(running: RunningGateway) -> None:
    refused = await _refused(f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.6"])
    assert refused.response.status_code == 401


async def test_basic_user_must_name_the_station(running: RunningGateway) -> None:
    refused = await _refused(
        f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-2")
    )
    assert refused.response.status_code == 401
    assert b"must be the station id" in refused.response.body


async def test_unknown_stations_and_bad_paths_are_404(running: RunningGateway) -> None:
    for path in ("/ocpp/NOPE", "/ocpp/", "/other/CP-1", "/ocpp/" + "A" * 49):
        refused = await _refused(
            f"{running.url}{path}", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
        )
        assert refused.response.status_code == 404, path


async def test_bad_frames_get_callerrors_and_the_connection_survives(
    running: RunningGateway,
) -> None:
    async with connect(
        f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
    ) as ws:
        await ws.send("{not json")
        assert json.loads(await ws.recv())[:3] == [4, "-1", "FormationViolation"]
        await ws.send(json.dumps([2, "u1", "MakeCoffee", {}]))
        assert json.loads(await ws.recv())[:3] == [4, "u1", "NotImplemented"]
        await ws.send(
            json.dumps(
                [2, "s1", "BootNotification", {"chargePointVendor": 5, "chargePointModel": "X"}]
            )
        )
        assert json.loads(await ws.recv())[:3] == [4, "s1", "TypeConstraintViolation"]
        await ws.send(json.dumps([3, "nobody-asked", {}]))
        await ws.send(json.dumps(BOOT))
        assert json.loads(await ws.recv())[1] == "b1"


async def test_a_core_failure_is_an_internal_error_not_a_disconnect(
    running: RunningGateway,
) -> None:
    from charging.events import HeartbeatReceived

    running.sink.fail_on = HeartbeatReceived
    async with connect(
        f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
    ) as ws:
        await ws.send(json.dumps([2, "h1", "Heartbeat", {}]))
        assert json.loads(await ws.recv())[:3] == [4, "h1", "InternalError"]
        await ws.send(json.dumps(BOOT))
        assert json.loads(await ws.recv())[1] == "b1"


async def test_an_oversized_frame_closes_with_1009(running: RunningGateway) -> None:
    async with connect(
        f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
    ) as ws:
        await ws.send(json.dumps([2, "x", "DataTransfer", {"vendorId": "v", "data": "x" * 10_000}]))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_binary_frames_close_with_1003(running: RunningGateway) -> None:
    async with connect(
        f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
    ) as ws:
        await ws.send(b"\x00\x01")
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003


async def test_a_second_connection_replaces_the_first(running: RunningGateway) -> None:
    url = f"{running.url}/ocpp/CP-1"
    async with (
        connect(url, subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")) as old,
        connect(url, subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")) as new,
    ):
        with pytest.raises(ConnectionClosed) as closed:
            await old.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.reason == "replaced by a newer connection"
        await new.send(json.dumps(BOOT))
        assert json.loads(await new.recv())[1] == "b1"
        assert running.gateway.is_connected("CP-1")
    await eventually(lambda: not running.gateway.is_connected("CP-1"))
    assert running.sink.gone == ["CP-1"]


async def test_a_command_returns_the_station_answer(running: RunningGateway) -> None:
    async with connect(
        f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
    ) as ws:
        pending = asyncio.create_task(running.gateway.send("CP-1", Reset(ResetMode.IMMEDIATE)))
        call = json.loads(await ws.recv())
        assert call[0] == 2 and call[2] == "Reset" and call[3] == {"type": "Hard"}
        await ws.send(json.dumps([3, call[1], {"status": "Rejected"}]))
        result = await pending
        assert result.status == "Rejected"


async def test_a_station_callerror_is_raised_with_its_code(running: RunningGateway) -> None:
    async with connect(
        f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
    ) as ws:
        pending = asyncio.create_task(running.gateway.send("CP-1", Reset(ResetMode.ON_IDLE)))
        call = json.loads(await ws.recv())
        await ws.send(json.dumps([4, call[1], "NotSupported", "no resets here", {}]))
        with pytest.raises(StationCallError) as error:
            await pending
        assert error.value.code == "NotSupported"


async def test_a_station_that_never_answers_times_out_and_can_take_the_next_command(
    running: RunningGateway,
) -> None:
    async with connect(
        f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
    ) as ws:
        with pytest.raises(CommandTimeout):
            await running.gateway.send("CP-1", Reset(ResetMode.ON_IDLE), timeout=0.2)
        await ws.recv()  # the unanswered call
        pending = asyncio.create_task(running.gateway.send("CP-1", Reset(ResetMode.ON_IDLE)))
        call = json.loads(await ws.recv())
        await ws.send(json.dumps([3, call[1], {"status": "Accepted"}]))
        assert (await pending).status == "Accepted"


async def test_a_command_to_an_offline_station_raises_offline(running: RunningGateway) -> None:
    with pytest.raises(StationOffline):
        await running.gateway.send("CP-2", Reset(ResetMode.ON_IDLE))


async def test_commands_to_one_station_are_sent_one_at_a_time(running: RunningGateway) -> None:
    async with connect(
        f"{running.url}/ocpp/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
    ) as ws:
        first = asyncio.create_task(running.gateway.send("CP-1", Reset(ResetMode.ON_IDLE)))
        second = asyncio.create_task(running.gateway.send("CP-1", Reset(ResetMode.IMMEDIATE)))
        call1 = json.loads(await ws.recv())
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.1)
        await ws.send(json.dumps([3, call1[1], {"status": "Accepted"}]))
        call2 = json.loads(await ws.recv())
        assert call2[3] == {"type": "Hard"}
        await ws.send(json.dumps([3, call2[1], {"status": "Accepted"}]))
        assert (await first).status == (await second).status == "Accepted"
