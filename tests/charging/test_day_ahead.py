"""Day-ahead price series from JSON and CSV uploads, with every bad row reported."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charging.day_ahead import MAX_SLOTS, MAX_UPLOAD_BYTES, parse_csv, parse_json, series
from charging.errors import DayAheadRowsInvalid, TariffError

D = Decimal


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_json_slots_in_local_time_with_offset_become_utc_and_keep_every_digit() -> None:
    text = json.dumps(
        [
            {"start": "2026-06-04T00:15:00+02:00", "price": "-0.0123"},
            {"start": "2026-06-04T00:00:00+02:00", "price": 0.1234},
        ]
    )
    prices = parse_json(text)
    assert [(s.start, s.end, s.price_per_kwh) for s in prices.slots] == [
        (at(2026, 6, 3, 22), at(2026, 6, 3, 22, 15), D("0.1234")),
        (at(2026, 6, 3, 22, 15), at(2026, 6, 3, 22, 30), D("-0.0123")),
    ]


def test_json_slots_with_an_end_and_csv_with_either_header() -> None:
    text = json.dumps(
        [{"start": "2026-06-04T00:00:00Z", "end": "2026-06-04T01:00:00Z", "price": 1}]
    )
    assert parse_json(text).slot_length == timedelta(hours=1)
    csv_text = "start,price\n2026-06-04T00:00:00Z,0.10\n\n2026-06-04T01:00:00Z,0.20\n"
    assert [s.price_per_kwh for s in parse_csv(csv_text).slots] == [D("0.10"), D("0.20")]
    csv_text = "\ufeffStart,End,Price\r\n2026-06-04T00:00Z,2026-06-04T00:15Z,0.1\r\n"
    assert parse_csv(csv_text.encode()).end == at(2026, 6, 4, 0, 15)


def test_every_bad_json_row_is_reported_with_its_number() -> None:
    text = json.dumps(
        [
            {"start": "2026-06-04T00:00:00Z", "price": "0.1"},
            {"start": "2026-06-04T00:15:00", "price": "0.1"},
            {"start": "yesterday", "price": True},
            {"start": "2026-06-04T00:45:00Z"},
            {"start": "2026-06-04T01:00:00Z", "price": "NaN"},
            {"start": "2026-06-04T01:00:00Z", "end": "2026-06-04T00:00:00Z", "price": 1},
            {"start": "2026-06-04T01:15:00Z", "price": 1, "note": "x"},
            "<script>",
        ]
    )
    with pytest.raises(DayAheadRowsInvalid) as caught:
        parse_json(text)
    rows = {r.row: r.message for r in caught.value.rows}
    assert sorted(rows) == [2, 3, 4, 5, 6, 7, 8]
    assert "needs a UTC offset" in rows[2]
    assert "not an ISO 8601 time" in rows[3] and "price must be a number" in rows[3]
    assert rows[4] == "price is missing"
    assert rows[5] == "price must be a finite number"
    assert rows[6] == "end must be after start"
    assert "unknown keys" in rows[7]
    assert caught.value.field == "day_ahead"


def test_csv_rows_are_numbered_by_line() -> None:
    text = "start,price\n2026-06-04T00:00Z,0.1\n2026-06-04T00:15Z,abc\n2026-06-04T00:30Z\n"
    with pytest.raises(DayAheadRowsInvalid) as caught:
        parse_csv(text)
    assert [(r.row, r.message) for r in caught.value.rows] == [
        (3, "price 'abc' is not a number"),
        (4, "expected 2 columns, got 1"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "expected a JSON list"),
        ("[", "not JSON"),
        ("[]", "no slots"),
        ('[{"start": "2026-06-04T00:00Z", "price": 1}]', "say how long slots last"),
    ],
)
def test_bad_json_uploads_are_refused_as_a_whole(text: str, message: str) -> None:
    with pytest.raises(TariffError, match=message):
        parse_json(text)


def test_bad_csv_headers_and_oversized_uploads_are_refused() -> None:
    with pytest.raises(TariffError, match="header"):
        parse_csv("when,price\n")
    with pytest.raises(TariffError, match="UTF-8"):
        parse_csv(b"start,price\n\xff\n")
    with pytest.raises(TariffError, match="at most"):
        parse_csv("start,price\n" + "x" * MAX_UPLOAD_BYTES)
    rows = [
        {"start": (at(2026, 1, 1) + i * timedelta(minutes=15)).isoformat(), "price": 1}
        for i in range(MAX_SLOTS + 1)
    ]
    with pytest.raises(TariffError, match="at most"):
        parse_json(json.dumps(rows, separators=(",", ":")))


def quarter(start: datetime, minutes: int = 15) -> tuple[datetime, datetime, Decimal]:
    return (start, start + timedelta(minutes=minutes), D("0.1"))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([quarter(at(2026, 6, 4)), quarter(at(2026, 6, 4, 0, 15), 60)], "must last"),
        ([quarter(at(2026, 6, 4), 30)], "15 or 60 minutes"),
        ([quarter(at(2026, 6, 4)), quarter(at(2026, 6, 4))], "overlaps"),
        ([quarter(at(2026, 6, 4)), quarter(at(2026, 6, 4, 0, 10))], "overlaps"),
        ([quarter(at(2026, 6, 4)), quarter(at(2026, 6, 4, 0, 45))], "gap"),
        ([], "at least one slot"),
    ],
)
def test_a_series_is_all_one_length_without_overlap_or_gap(
    rows: list[tuple[datetime, datetime, Decimal]], message: str
) -> None:
    with pytest.raises(TariffError, match=message):
        series(rows)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_read_or_refused_with_a_tariff_error(text: str) -> None:
    for parse in (parse_json, parse_csv):
        with contextlib.suppress(TariffError):
            parse(text)
