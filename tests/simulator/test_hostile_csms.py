"""A CSMS that sends a simulated station malformed or overlapping firmware requests: the
station answers each with the right CALLERROR or status and keeps working."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from simulator.station import SimulatedStation, StationOptions
from tests.eventually import eventually

NOW = "2026-12-01T12:00:00Z"
_ANSWERS: dict[str, dict[str, Any]] = {
    "BootNotification": {"status": "Accepted", "currentTime": NOW, "interval": 300},
    "Heartbeat": {"currentTime": NOW},
}


@dataclass
class RawCsms:
    """Answers the station's CALLs; ``send`` puts any frame on the wire and ``answers`` holds
    what came back for each of our message ids."""

    ws: ServerConnection | None = None
    answers: dict[str, list[Any]] = field(default_factory=dict)
    calls: list[list[Any]] = field(default_factory=list)

    async def handler(self, ws: ServerConnection) -> None:
        self.ws = ws
        async for text in ws:
            frame = json.loads(text)
            if frame[0] == 2:
                self.calls.append(frame)
                await ws.send(json.dumps([3, frame[1], _ANSWERS.get(frame[2], {})]))
            else:
                self.answers[frame[1]] = frame

    async def send(self, *frames: list[Any]) -> None:
        assert self.ws is not None
        for frame in frames:
            await self.ws.send(json.dumps(frame))


@contextlib.asynccontextmanager
async def station_of(version: str) -> AsyncIterator[tuple[RawCsms, SimulatedStation]]:
    csms = RawCsms()
    async with serve(csms.handler, "127.0.0.1", 0, subprotocols=[f"ocpp{version}"]) as server:  # type: ignore[list-item]
        port = server.sockets[0].getsockname()[1]
        station = SimulatedStation(
            "SIM-0001",
            f"ws://127.0.0.1:{port}",
            version,
            options=StationOptions(sessions=0, speed=100.0),
        )
        task = asyncio.create_task(station.run())
        await eventually(lambda: station.stats.booted == 1)
        try:
            yield csms, station
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


FIRMWARE = {"location": "https://127.0.0.1:1/fw.bin", "retrieveDateTime": "2099-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("version", "action", "payload", "code"),
    [
        ("2.0.1", "UpdateFirmware", {"requestId": 1}, "OccurrenceConstraintViolation"),
        (
            "2.0.1",
            "UpdateFirmware",
            {"requestId": 1, "firmware": {**FIRMWARE, "location": "https://x/" + "a" * 600}},
            "PropertyConstraintViolation",
        ),
        (
            "2.0.1",
            "UpdateFirmware",
            {"requestId": 1, "firmware": {**FIRMWARE, "retrieveDateTime": "tomorrow"}},
            "PropertyConstraintViolation",
        ),
        (
            "2.0.1",
            "UpdateFirmware",
            {"requestId": "1", "firmware": FIRMWARE},
            "TypeConstraintViolation",
        ),
        (
            "2.0.1",
            "UpdateFirmware",
            {"requestId": 1, "firmware": {**FIRMWARE, "signature": "A" * 900}},
            "PropertyConstraintViolation",
        ),
        (
            "1.6",
            "SignedUpdateFirmware",
            {"requestId": 1, "firmware": FIRMWARE},  # no signingCertificate nor signature
            "OccurenceConstraintViolation",
        ),
        (
            "1.6",
            "GetLog",
            {"requestId": 1, "logType": "Everything", "log": {"remoteLocation": "x"}},
            "PropertyConstraintViolation",
        ),
        (
            "1.6",
            "InstallCertificate",
            {"certificateType": "ManufacturerRootCertificate"},
            "OccurenceConstraintViolation",
        ),
    ],
)
async def test_a_malformed_request_gets_a_callerror_and_starts_nothing(
    version: str, action: str, payload: dict[str, Any], code: str
) -> None:
    async with station_of(version) as (csms, station):
        await csms.send([2, "bad-1", action, payload])
        await eventually(lambda: "bad-1" in csms.answers)
        await csms.send([2, "ok-1", "TriggerMessage", {"requestedMessage": "Heartbeat"}])
        await eventually(lambda: "ok-1" in csms.answers)  # the station kept going
    assert csms.answers["bad-1"][:3] == [4, "bad-1", code]
    assert station.state.firmware.request is None
    assert station.state.store.installed == []


async def test_two_requests_sent_at_once_are_answered_accepted_then_accepted_canceled() -> None:
    async with station_of("2.0.1") as (csms, station):
        await csms.send(
            [2, "u-1", "UpdateFirmware", {"requestId": 1, "firmware": FIRMWARE}],
            [2, "u-2", "UpdateFirmware", {"requestId": 2, "firmware": FIRMWARE}],
        )
        await eventually(lambda: {"u-1", "u-2"} <= set(csms.answers))
        await eventually(
            lambda: (
                [c[3] for c in csms.calls if c[2] == "FirmwareStatusNotification"][-1:]
                == [{"status": "DownloadScheduled", "requestId": 2}]
            )
        )
        assert station.state.firmware.request is not None
        assert station.state.firmware.request.request_id == 2
    assert csms.answers["u-1"][2] == {"status": "Accepted"}
    assert csms.answers["u-2"][2] == {"status": "AcceptedCanceled"}
