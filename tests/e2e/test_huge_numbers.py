"""Huge numbers in OCPP frames on the real platform: the right CALLERROR, never InternalError.

OCPP 2.0.1 Part 2 2.1.1 makes ``integer`` a 32-bit type; a value outside it violates the data
type, a TypeConstraintViolation (OCPP-J 1.6 4.2.3, 2.0.1 Part 4 4.3). The connection stays open.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.conftest import RunningPlatform, basic

AT = "2026-05-01T12:00:00Z"
HUGE = [10**30, 2**63, 2**31, -(2**31) - 1, -(2**63)]

V16: dict[str, dict[str, Any]] = {
    "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    "StartTransaction": {
        "connectorId": 1,
        "idTag": "TAG-1",
        "meterStart": 0,
        "timestamp": AT,
        "reservationId": 1,
    },
    "StopTransaction": {"transactionId": 1, "meterStop": 10, "timestamp": AT},
    "MeterValues": {
        "connectorId": 1,
        "transactionId": 1,
        "meterValue": [{"timestamp": AT, "sampledValue": [{"value": "1"}]}],
    },
}
V16_FIELDS = [
    ("StatusNotification", ("connectorId",)),
    ("StartTransaction", ("connectorId",)),
    ("StartTransaction", ("meterStart",)),
    ("StartTransaction", ("reservationId",)),
    ("StopTransaction", ("transactionId",)),
    ("StopTransaction", ("meterStop",)),
    ("MeterValues", ("connectorId",)),
    ("MeterValues", ("transactionId",)),
]

_SAMPLE = {"timestamp": AT, "sampledValue": [{"value": 1.5, "unitOfMeasure": {"multiplier": 0}}]}
V201: dict[str, dict[str, Any]] = {
    "StatusNotification": {
        "timestamp": AT,
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    },
    "TransactionEvent": {
        "eventType": "Started",
        "timestamp": AT,
        "triggerReason": "RemoteStart",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "tx-1", "remoteStartId": 1},
        "evse": {"id": 1, "connectorId": 1},
        "reservationId": 1,
        "meterValue": [_SAMPLE],
    },
    "MeterValues": {"evseId": 1, "meterValue": [_SAMPLE]},
    "FirmwareStatusNotification": {"status": "Downloading", "requestId": 1},
}
V201_FIELDS = [
    ("StatusNotification", ("evseId",)),
    ("StatusNotification", ("connectorId",)),
    ("TransactionEvent", ("seqNo",)),
    ("TransactionEvent", ("evse", "id")),
    ("TransactionEvent", ("evse", "connectorId")),
    ("TransactionEvent", ("reservationId",)),
    ("TransactionEvent", ("transactionInfo", "remoteStartId")),
    ("TransactionEvent", ("meterValue", 0, "sampledValue", 0, "unitOfMeasure", "multiplier")),
    ("MeterValues", ("evseId",)),
    ("MeterValues", ("meterValue", 0, "sampledValue", 0, "unitOfMeasure", "multiplier")),
    ("FirmwareStatusNotification", ("requestId",)),
]


def _with(payload: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    node: Any = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


async def _station(running: RunningPlatform, version: str) -> ClientConnection:
    running.add_station("CP-BIG")
    running.add_id_token("TAG-1")
    return await connect(
        f"{running.ocpp_url}/CP-BIG",
        subprotocols=[f"ocpp{version}"],  # type: ignore[list-item]
        additional_headers=basic("CP-BIG"),
    )


async def _ask(ws: ClientConnection, frame: str) -> list[Any]:
    await ws.send(frame)
    answer: list[Any] = json.loads(await ws.recv())
    await ws.send(json.dumps([2, "hb", "Heartbeat", {}]))
    assert json.loads(await ws.recv())[:2] == [3, "hb"], "the connection must stay usable"
    return answer


async def _refused_everywhere(
    running: RunningPlatform,
    version: str,
    payloads: dict[str, dict[str, Any]],
    fields: list[tuple[str, tuple[str | int, ...]]],
) -> None:
    async with await _station(running, version) as ws:
        for action, path in fields:
            for value in HUGE:
                payload = _with(payloads[action], path, value)
                answer = await _ask(ws, json.dumps([2, "m1", action, payload]))
                assert answer[:3] == [4, "m1", "TypeConstraintViolation"], (action, path, value)
                assert str(path[-1]) in answer[3], answer
                assert "must be" in answer[3], answer


async def test_every_16_integer_out_of_32_bits_is_a_type_constraint_violation(
    running: RunningPlatform,
) -> None:
    await _refused_everywhere(running, "1.6", V16, V16_FIELDS)


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_every_2x_integer_out_of_32_bits_is_a_type_constraint_violation(
    running: RunningPlatform, version: str
) -> None:
    await _refused_everywhere(running, version, V201, V201_FIELDS)


async def test_the_largest_32_bit_values_are_still_accepted(running: RunningPlatform) -> None:
    async with await _station(running, "1.6") as ws:
        status = _with(V16["StatusNotification"], ("connectorId",), 2**31 - 1)
        assert await _ask(ws, json.dumps([2, "s", "StatusNotification", status])) == [3, "s", {}]
        stop = _with(V16["StopTransaction"], ("transactionId",), 2**31 - 1)
        answer = await _ask(ws, json.dumps([2, "t", "StopTransaction", stop]))
        assert answer[0] == 3 or answer[2] != "InternalError", answer


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_meter_numbers_beyond_a_double_or_its_scale_are_refused(
    running: RunningPlatform, version: str
) -> None:
    async with await _station(running, version) as ws:
        meter = V201["MeterValues"]
        # 1e400 is valid JSON that no double holds: a data type violation.
        beyond = json.dumps([2, "m1", "MeterValues", meter]).replace("1.5", "1e400")
        answer = await _ask(ws, beyond)
        assert answer[:3] == [4, "m1", "TypeConstraintViolation"], answer
        assert "sampledValue[0].value" in answer[3]
        huge_int = json.dumps([2, "m2", "MeterValues", meter]).replace("1.5", str(10**400))
        assert (await _ask(ws, huge_int))[:3] == [4, "m2", "TypeConstraintViolation"]
        # A 32-bit multiplier that scales the reading past any double: an unusable value.
        scaled = _with(
            meter, ("meterValue", 0, "sampledValue", 0, "unitOfMeasure", "multiplier"), 400
        )
        answer = await _ask(ws, json.dumps([2, "m3", "MeterValues", scaled]))
        assert answer[:3] == [4, "m3", "PropertyConstraintViolation"], answer
        assert "out of range" in answer[3]


@pytest.mark.parametrize(
    ("version", "code"), [("1.6", "FormationViolation"), ("2.0.1", "FormatViolation")]
)
async def test_nan_and_infinity_are_not_json_numbers(
    running: RunningPlatform, version: str, code: str
) -> None:
    async with await _station(running, version) as ws:
        for literal in ("NaN", "Infinity", "-Infinity"):
            frame = '[2, "m1", "Heartbeat", {"x": ' + literal + "}]"
            answer = await _ask(ws, frame)
            assert answer == [4, "m1", code, f"{literal} is not a JSON number", {}]
