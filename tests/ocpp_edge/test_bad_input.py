"""Bad input gets the exact CALLERROR of the station's OCPP version and keeps the connection."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocpp_edge.protocol import ErrorToSend, IncomingCall, StationProtocol
from tests.ocpp_edge.recorded import load

CASES = load("bad_input.json")


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_bad_input_is_answered_with_the_exact_callerror(case: dict[str, Any]) -> None:
    protocol = StationProtocol(case["version"], "CP-1")

    received = protocol.receive(case["text"], now=0.0)

    assert isinstance(received, ErrorToSend)
    assert json.loads(received.frame) == case["error"]
    assert received.code == case["error"][2]


def test_the_connection_keeps_working_after_bad_input() -> None:
    protocol = StationProtocol("2.0.1", "CP-1")
    for case in CASES:
        if case["version"] == "2.0.1":
            protocol.receive(case["text"], now=0.0)

    received = protocol.receive('[2,"ok","Heartbeat",{}]', now=1.0)

    assert isinstance(received, IncomingCall)
    assert received.message_id == "ok"


def test_callerror_frames_are_compact_json() -> None:
    received = StationProtocol("1.6", "CP-1").receive("garbage", now=0.0)

    assert isinstance(received, ErrorToSend)
    assert received.frame == '[4,"-1","FormationViolation","message is not valid JSON",{}]'


def test_deeply_nested_json_is_refused_without_recursion_error() -> None:
    received = StationProtocol("2.0.1", "CP-1").receive("[" * 100_000, now=0.0)

    assert isinstance(received, ErrorToSend)
    assert received.code == "RpcFrameworkError"


def test_long_error_descriptions_are_cut_to_255_characters() -> None:
    action = "X" * 5000
    received = StationProtocol("2.0.1", "CP-1").receive(f'[2,"a","{action}",{{}}]', now=0.0)

    assert isinstance(received, ErrorToSend)
    assert len(json.loads(received.frame)[3]) <= 255


def test_a_bytes_frame_is_read_like_text() -> None:
    received = StationProtocol("1.6", "CP-1").receive(b'[2,"b","Heartbeat",{}]', now=0.0)

    assert isinstance(received, IncomingCall)
