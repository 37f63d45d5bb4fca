"""The Range and If-Range rules of firmware downloads, without a socket."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.byte_ranges import ByteRange, RangeRefused, if_range_allows, parse_range

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=500-", ByteRange(500, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=900-5000", ByteRange(900, 999)),
        ("bytes=999-999", ByteRange(999, 999)),
        ("Bytes = 10-19", ByteRange(10, 19)),
    ],
)
def test_one_byte_range_is_served(header: str, expected: ByteRange) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("bytes=0-1,5-9", "single byte range"),
        ("items=0-9", "only byte ranges"),
        ("bytes 0-9", "only byte ranges"),
        ("bytes=abc", "malformed"),
        ("bytes=-", "malformed"),
        ("bytes=+5-9", "malformed"),
        ("bytes=5-3", "before its start"),
        ("bytes=1000-", "past the end"),
        ("bytes=-0", "empty suffix"),
        ("bytes=" + "9" * 25 + "-", "malformed"),
    ],
)
def test_other_ranges_are_refused_with_the_reason(header: str, reason: str) -> None:
    with pytest.raises(RangeRefused, match=reason):
        parse_range(header, SIZE)


def test_content_range_names_the_span_and_the_size() -> None:
    assert ByteRange(10, 19).content_range(SIZE) == "bytes 10-19/1000"
    assert ByteRange(10, 19).length == 10


@given(st.text(max_size=60), st.integers(min_value=0, max_value=10**12))
def test_any_header_is_a_range_inside_the_image_or_refused(header: str, size: int) -> None:
    try:
        span = parse_range(header, size)
    except RangeRefused:
        return
    assert 0 <= span.start <= span.end < size


MODIFIED = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
ETAG = '"ab12"'


@pytest.mark.parametrize(
    ("if_range", "allowed"),
    [
        (None, True),
        ('"ab12"', True),
        ('"other"', False),
        ('W/"ab12"', False),
        ("Tue, 01 Dec 2026 10:00:00 GMT", True),
        ("Tue, 01 Dec 2026 10:00:01 GMT", False),
        ("yesterday", False),
    ],
)
def test_if_range_lets_a_range_through_only_for_the_same_image(
    if_range: str | None, allowed: bool
) -> None:
    assert if_range_allows(if_range, etag=ETAG, last_modified=MODIFIED) is allowed
