"""Hypothesis: ``receive`` never raises, and every CALL gets a result path or a CALLERROR."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ocpp_edge.protocol import VERSIONS, ErrorToSend, IncomingCall, Received, StationProtocol
from ocpp_edge.schemas import actions

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
ACTIONS = st.sampled_from(sorted(actions("1.6") | actions("2.0.1") | actions("2.1"))) | st.text(
    max_size=20
)
IDS = st.text(min_size=1, max_size=36)


def calls() -> st.SearchStrategy[str]:
    payload = st.dictionaries(st.text(max_size=20), JSON, max_size=5)
    return st.builds(lambda i, a, p: json.dumps([2, i, a, p]), IDS, ACTIONS, payload)


def _answers_the_call(received: Received, message_id: str) -> bool:
    if isinstance(received, IncomingCall):
        return received.message_id == message_id
    if isinstance(received, ErrorToSend):
        frame = json.loads(received.frame)
        return frame[0] == 4 and frame[1] == message_id
    return False


@settings(max_examples=300, deadline=None)
@given(version=st.sampled_from(VERSIONS), text=st.text(max_size=200))
def test_receive_never_raises_on_arbitrary_text(version: str, text: str) -> None:
    StationProtocol(version, "CP-F").receive(text, now=0.0)


@settings(max_examples=300, deadline=None)
@given(version=st.sampled_from(VERSIONS), frame=st.lists(JSON, max_size=6))
def test_receive_never_raises_on_arbitrary_json_arrays(version: str, frame: list[object]) -> None:
    StationProtocol(version, "CP-F").receive(json.dumps(frame), now=0.0)


@settings(max_examples=500, deadline=None)
@given(version=st.sampled_from(VERSIONS), frame=calls())
def test_every_call_gets_a_result_path_or_a_callerror(version: str, frame: str) -> None:
    received = StationProtocol(version, "CP-F").receive(frame, now=0.0)

    assert _answers_the_call(received, json.loads(frame)[1])
