"""Frames and times are written exactly as the standard library would write them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocpp_edge import frames
from ocpp_edge.adapters.common import format_datetime

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


def _reference(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@given(st.text(max_size=36), st.dictionaries(st.text(), _json_values))
def test_a_callresult_is_encoded_as_compact_json(message_id: str, payload: dict[str, Any]) -> None:
    assert frames.encode_result(message_id, payload) == _reference([3, message_id, payload])


@given(st.text(max_size=36), st.text(), st.dictionaries(st.text(), _json_values))
def test_a_call_is_encoded_as_compact_json(
    message_id: str, action: str, payload: dict[str, Any]
) -> None:
    assert frames.encode_call(message_id, action, payload) == _reference(
        [2, message_id, action, payload]
    )


def test_a_heartbeat_reply_keeps_non_ascii_and_escapes_quotes() -> None:
    assert frames.encode_result('id"é', {"currentTime": "x"}) == '[3,"id\\"é",{"currentTime":"x"}]'


def test_encoding_an_unserializable_value_raises_type_error() -> None:
    with pytest.raises(TypeError, match="^Object of type datetime is not JSON serializable$"):
        frames.encode_result("1", {"at": datetime(2024, 5, 1, tzinfo=UTC)})


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_utc_time_is_written_with_a_z_suffix(value: datetime) -> None:
    assert format_datetime(value) == value.isoformat().replace("+00:00", "Z")


@given(st.datetimes(), st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_a_time_in_another_zone_is_written_as_the_same_instant_in_utc(
    value: datetime, offset_minutes: int
) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    local = value.replace(tzinfo=zone)
    try:
        instant = local.astimezone(UTC)
    except OverflowError:
        return
    assert format_datetime(local) == format_datetime(instant)
    assert format_datetime(local).endswith("Z")


def test_whole_seconds_are_written_without_a_fraction() -> None:
    assert format_datetime(datetime(2024, 5, 1, 12, 0, tzinfo=UTC)) == "2024-05-01T12:00:00Z"
    assert format_datetime(datetime(2024, 5, 1, 12, 0, 0, 500)) == "2024-05-01T12:00:00.000500Z"
