"""Numbers held to their OCPP data type at the edge, without a socket (see ocpp_edge.schemas)."""

from __future__ import annotations

import json

import pytest

from ocpp_edge.protocol import ErrorToSend, IncomingCall, StationProtocol

STATUS = {"timestamp": "2026-05-01T12:00:00Z", "connectorStatus": "Available", "connectorId": 1}


@pytest.mark.parametrize(
    ("evse_id", "code"),
    [
        (-1, "PropertyConstraintViolation"),  # inside the type, below the schema's minimum 0
        (-(2**31) - 1, "TypeConstraintViolation"),
        (2**31, "TypeConstraintViolation"),
        (10**30, "TypeConstraintViolation"),
    ],
)
def test_a_range_violation_is_a_type_violation_only_outside_the_type(
    evse_id: int, code: str
) -> None:
    frame = json.dumps([2, "s1", "StatusNotification", {**STATUS, "evseId": evse_id}])
    received = StationProtocol("2.1", "CP-1").receive(frame, now=0.0)  # 2.1: minimum 0
    assert isinstance(received, ErrorToSend)
    assert (received.code, json.loads(received.frame)[1]) == (code, "s1")
    assert received.description.startswith("StatusNotification: evseId must be")


def test_the_32_bit_bounds_themselves_pass() -> None:
    for evse_id in (0, 2**31 - 1):
        frame = json.dumps([2, "s1", "StatusNotification", {**STATUS, "evseId": evse_id}])
        assert isinstance(StationProtocol("2.0.1", "CP-1").receive(frame, now=0.0), IncomingCall)


def test_an_answer_with_nan_fails_the_command_it_answers() -> None:
    from charging.commands import Reset

    protocol = StationProtocol("2.0.1", "CP-1", new_id=lambda: "c1")
    protocol.send(Reset(), now=0.0)
    failed = protocol.receive('[3, "c1", {"status": NaN}]', now=1.0)
    assert (type(failed).__name__, failed.code) == ("CommandFailed", "FormatViolation")  # type: ignore[union-attr]
