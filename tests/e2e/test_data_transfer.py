"""Station-initiated DataTransfer on the real platform: per-spec answers and vendor handlers."""

from __future__ import annotations

import asyncio
import json

import pytest
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from websockets.asyncio.client import connect

from charging.events import DataTransferReceived
from charging.outcomes import DataTransferDecision, DataTransferStatus
from tests.e2e.conftest import RunningPlatform, basic

VERSIONS = ["1.6", "2.0.1", "2.1"]


async def _raw(running: RunningPlatform, version: str, payload: dict[str, object]) -> list[object]:
    async with connect(
        f"{running.ocpp_url}/CP-DT",
        subprotocols=[f"ocpp{version}"],  # type: ignore[list-item]
        additional_headers=basic("CP-DT"),
    ) as ws:
        await ws.send(json.dumps([2, "dt-1", "DataTransfer", payload]))
        answer: list[object] = json.loads(await ws.recv())
        await ws.send(json.dumps([2, "hb-1", "Heartbeat", {}]))  # the connection stays usable
        assert json.loads(await ws.recv())[:2] == [3, "hb-1"]
    return answer


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_vendor_nobody_registered_gets_unknown_vendor_id(
    running: RunningPlatform, version: str
) -> None:
    running.add_station("CP-DT")
    answer = await _raw(running, version, {"vendorId": "com.nobody", "messageId": "Hello"})
    assert answer == [3, "dt-1", {"status": "UnknownVendorId"}]


def _acme(event: DataTransferReceived) -> DataTransferDecision:
    return DataTransferDecision(
        DataTransferStatus.ACCEPTED, f"pong:{event.station_id}:{event.data}"
    )


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_registered_vendor_answers_its_message_and_refuses_others(
    running: RunningPlatform, version: str
) -> None:
    running.add_station("CP-DT")
    running.platform.data_transfers.register("com.acme", _acme, "Ping")
    answer = await _raw(
        running, version, {"vendorId": "com.acme", "messageId": "Ping", "data": "7"}
    )
    assert answer == [3, "dt-1", {"status": "Accepted", "data": "pong:CP-DT:7"}]
    other = await _raw(running, version, {"vendorId": "com.acme", "messageId": "Other"})
    assert other == [3, "dt-1", {"status": "UnknownMessageId"}]


async def test_the_ocpp_library_station_16_gets_the_vendor_answer(running: RunningPlatform) -> None:
    running.add_station("CP-LIB")
    running.platform.data_transfers.register("com.acme", _acme)
    async with connect(
        f"{running.ocpp_url}/CP-LIB", subprotocols=["ocpp1.6"], additional_headers=basic("CP-LIB")
    ) as ws:
        station = ChargePoint16("CP-LIB", ws)
        runner = asyncio.create_task(station.start())
        try:
            known = await station.call(
                call16.DataTransfer(vendor_id="com.acme", message_id="Any", data="1")
            )
            unknown = await station.call(call16.DataTransfer(vendor_id="com.other"))
        finally:
            runner.cancel()
    assert (known.status, known.data) == ("Accepted", "pong:CP-LIB:1")
    assert (unknown.status, unknown.data) == ("UnknownVendorId", None)


async def test_the_ocpp_library_station_201_gets_unknown_vendor_id(
    running: RunningPlatform,
) -> None:
    running.add_station("CP-LIB")
    async with connect(
        f"{running.ocpp_url}/CP-LIB",
        subprotocols=["ocpp2.0.1"],
        additional_headers=basic("CP-LIB"),
    ) as ws:
        station = ChargePoint201("CP-LIB", ws)
        runner = asyncio.create_task(station.start())
        try:
            answer = await station.call(call201.DataTransfer(vendor_id="com.other"))
        finally:
            runner.cancel()
    assert answer.status == "UnknownVendorId"
