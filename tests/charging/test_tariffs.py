"""Tariffs as price slots: windows, day-ahead prices, validation and DST days."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charging.day_ahead import series
from charging.errors import TariffError
from charging.tariffs import (
    EVERY_DAY,
    FRIDAY,
    SATURDAY,
    SUNDAY,
    WEEKDAYS,
    Tariff,
    Window,
    check_plannable,
    net_price_at,
    parse_time_of_day,
    price_at,
    price_slots,
)

BERLIN = "Europe/Berlin"
D = Decimal


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def night_and_weekend(**changes: object) -> Tariff:
    fields: dict[str, object] = {
        "currency": "EUR",
        "vat_rate": D("0.19"),
        "base_price_per_kwh": D("0.30"),
        "time_zone": BERLIN,
        "windows": (
            # Sunday to Thursday nights; Friday night belongs to the weekend.
            Window(frozenset({0, 1, 2, 3, SUNDAY}), time(22), time(6), D("0.20"), "night"),
            Window(frozenset({FRIDAY}), time(22), time(0), D("0.15"), "friday night"),
            Window(frozenset({SATURDAY}), time(0), time(0), D("0.15"), "saturday"),
            Window(frozenset({SUNDAY}), time(0), time(22), D("0.15"), "sunday"),
        ),
    }
    fields.update(changes)
    return Tariff(**fields)  # type: ignore[arg-type]


def test_the_base_price_applies_outside_every_window_with_vat_added() -> None:
    tariff = night_and_weekend()
    # Wednesday 2026-06-03 12:00 in Berlin is 10:00 UTC.
    assert net_price_at(tariff, at(2026, 6, 3, 10)) == D("0.30")
    assert price_at(tariff, at(2026, 6, 3, 10)) == D("0.3570")


def test_a_night_window_runs_across_midnight_in_local_time() -> None:
    tariff = night_and_weekend()
    # Wednesday 22:00 to Thursday 06:00 CEST is 20:00 to 04:00 UTC.
    slots = price_slots(tariff, at(2026, 6, 3, 18), at(2026, 6, 4, 6))
    assert [(s.start, s.end, s.price_per_kwh) for s in slots] == [
        (at(2026, 6, 3, 18), at(2026, 6, 3, 20), D("0.3570")),
        (at(2026, 6, 3, 20), at(2026, 6, 4, 4), D("0.2380")),
        (at(2026, 6, 4, 4), at(2026, 6, 4, 6), D("0.3570")),
    ]


def test_the_weekend_is_priced_all_day_and_friday_night_leads_into_it() -> None:
    tariff = night_and_weekend()
    slots = price_slots(tariff, at(2026, 6, 5, 19), at(2026, 6, 7, 23))
    assert [(s.start, s.end, s.price_per_kwh) for s in slots] == [
        (at(2026, 6, 5, 19), at(2026, 6, 5, 20), D("0.3570")),
        (at(2026, 6, 5, 20), at(2026, 6, 5, 22), D("0.1785")),  # Friday 22:00-24:00
        (at(2026, 6, 5, 22), at(2026, 6, 6, 22), D("0.1785")),  # Saturday
        (at(2026, 6, 6, 22), at(2026, 6, 7, 20), D("0.1785")),  # Sunday until 22:00
        (at(2026, 6, 7, 20), at(2026, 6, 7, 23), D("0.2380")),  # Sunday night
    ]


def test_a_23_hour_day_has_23_hours_of_weekend_price() -> None:
    tariff = night_and_weekend()
    # Sunday 2026-03-29: 00:00 CET (23:00 UTC the day before) to 00:00 CEST (22:00 UTC).
    slots = price_slots(tariff, at(2026, 3, 28, 23), at(2026, 3, 29, 22))
    assert [(s.start, s.end) for s in slots] == [
        (at(2026, 3, 28, 23), at(2026, 3, 29, 20)),
        (at(2026, 3, 29, 20), at(2026, 3, 29, 22)),
    ]
    assert sum(s.hours for s in slots) == 23
    assert slots[0].price_per_kwh == D("0.1785")  # weekend until Sunday 22:00 CEST
    assert slots[1].price_per_kwh == D("0.2380")  # Sunday night


def test_a_25_hour_day_has_25_hours_of_weekend_price() -> None:
    tariff = night_and_weekend()
    # Sunday 2026-10-25: 00:00 CEST (22:00 UTC the day before) to 22:00 CET (21:00 UTC).
    slots = price_slots(tariff, at(2026, 10, 24, 22), at(2026, 10, 25, 21))
    assert [(s.start, s.end, s.price_per_kwh) for s in slots] == [
        (at(2026, 10, 24, 22), at(2026, 10, 25, 21), D("0.1785")),
    ]
    assert slots[0].hours == 23  # 00:00 to 22:00 local on a 25-hour day


def two_to_three(day: frozenset[int] = EVERY_DAY) -> Tariff:
    window = Window(day, time(2), time(3), D("0.10"))
    return Tariff("EUR", D("0"), D("0.30"), BERLIN, (window,))


def test_a_window_inside_the_spring_gap_is_empty_that_day() -> None:
    # 02:00-03:00 does not exist on 2026-03-29: both edges move to the jump (01:00 UTC).
    slots = price_slots(two_to_three(), at(2026, 3, 28, 23), at(2026, 3, 29, 4))
    assert [(s.start, s.end, s.price_per_kwh) for s in slots] == [
        (at(2026, 3, 28, 23), at(2026, 3, 29, 4), D("0.30")),
    ]
    # The day before it is there, one hour long (02:00-03:00 CET).
    day_before = price_slots(two_to_three(), at(2026, 3, 28, 0), at(2026, 3, 28, 4))
    assert [(s.start, s.price_per_kwh) for s in day_before] == [
        (at(2026, 3, 28, 0), D("0.30")),
        (at(2026, 3, 28, 1), D("0.10")),
        (at(2026, 3, 28, 2), D("0.30")),
    ]


def test_a_window_starting_in_the_spring_gap_starts_at_the_jump() -> None:
    window = Window(EVERY_DAY, time(2, 30), time(4), D("0.10"))
    tariff = Tariff("EUR", D("0"), D("0.30"), BERLIN, (window,))
    slots = price_slots(tariff, at(2026, 3, 29, 0), at(2026, 3, 29, 3))
    assert [(s.start, s.end, s.price_per_kwh) for s in slots] == [
        (at(2026, 3, 29, 0), at(2026, 3, 29, 1), D("0.30")),
        (at(2026, 3, 29, 1), at(2026, 3, 29, 2), D("0.10")),  # 03:00-04:00 CEST
        (at(2026, 3, 29, 2), at(2026, 3, 29, 3), D("0.30")),
    ]


def test_a_window_in_the_repeated_autumn_hour_covers_both_passes() -> None:
    # 02:00 is ambiguous on 2026-10-25: the start is its first pass (00:00 UTC, CEST), the end
    # 03:00 CET (02:00 UTC) exists once; the window lasts two real hours.
    slots = price_slots(two_to_three(), at(2026, 10, 24, 23), at(2026, 10, 25, 3))
    assert [(s.start, s.end, s.price_per_kwh) for s in slots] == [
        (at(2026, 10, 24, 23), at(2026, 10, 25, 0), D("0.30")),
        (at(2026, 10, 25, 0), at(2026, 10, 25, 2), D("0.10")),
        (at(2026, 10, 25, 2), at(2026, 10, 25, 3), D("0.30")),
    ]


def test_an_ambiguous_window_end_is_its_first_pass() -> None:
    window = Window(EVERY_DAY, time(1), time(2, 30), D("0.10"))
    tariff = Tariff("EUR", D("0"), D("0.30"), BERLIN, (window,))
    slots = price_slots(tariff, at(2026, 10, 24, 22), at(2026, 10, 25, 2))
    assert [(s.start, s.end, s.price_per_kwh) for s in slots] == [
        (at(2026, 10, 24, 22), at(2026, 10, 24, 23), D("0.30")),
        (at(2026, 10, 24, 23), at(2026, 10, 25, 0, 30), D("0.10")),  # 01:00-02:30 CEST
        (at(2026, 10, 25, 0, 30), at(2026, 10, 25, 2), D("0.30")),  # second pass not included
    ]


def quarter_hours(start: datetime, prices: list[str]) -> list[tuple[datetime, datetime, Decimal]]:
    step = timedelta(minutes=15)
    return [(start + i * step, start + (i + 1) * step, D(p)) for i, p in enumerate(prices)]


def test_day_ahead_prices_win_over_windows_where_present_and_may_be_negative() -> None:
    prices = series(quarter_hours(at(2026, 6, 3, 19, 45), ["0.25", "-0.05", "0.01"]))
    tariff = night_and_weekend(day_ahead=prices)
    slots = price_slots(tariff, at(2026, 6, 3, 19, 30), at(2026, 6, 3, 20, 30))
    assert [(s.start, s.end, s.price_per_kwh) for s in slots] == [
        (at(2026, 6, 3, 19, 30), at(2026, 6, 3, 19, 45), D("0.3570")),  # base
        (at(2026, 6, 3, 19, 45), at(2026, 6, 3, 20), D("0.2975")),
        (at(2026, 6, 3, 20), at(2026, 6, 3, 20, 15), D("-0.0595")),  # beats the night rate
        (at(2026, 6, 3, 20, 15), at(2026, 6, 3, 20, 30), D("0.0119")),
    ]


def test_slots_split_at_a_window_edge_inside_a_day_ahead_slot() -> None:
    hourly = series([(at(2026, 6, 3, 10), at(2026, 6, 3, 11), D("0.05"))])
    window = Window(EVERY_DAY, time(12, 30), time(13), D("0.10"))
    tariff = Tariff("EUR", D("0"), D("0.30"), BERLIN, (window,), hourly)
    slots = price_slots(tariff, at(2026, 6, 3, 10), at(2026, 6, 3, 11))
    assert [(s.start, s.end, s.price_per_kwh) for s in slots] == [
        (at(2026, 6, 3, 10), at(2026, 6, 3, 10, 30), D("0.05")),
        (at(2026, 6, 3, 10, 30), at(2026, 6, 3, 11), D("0.05")),
    ]


def test_a_series_entirely_in_the_past_is_refused_for_planning_only() -> None:
    prices = series(quarter_hours(at(2026, 6, 3, 10), ["0.10"]))
    tariff = night_and_weekend(day_ahead=prices)
    assert price_at(tariff, at(2026, 6, 3, 10, 5)) == D("0.1190")  # history is priced
    check_plannable(tariff, now=at(2026, 6, 3, 10, 5))
    with pytest.raises(TariffError) as caught:
        check_plannable(tariff, now=at(2026, 6, 3, 10, 15))
    assert caught.value.field == "day_ahead"
    check_plannable(night_and_weekend(), now=at(2030, 1, 1))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"vat_rate": D("1.5")}, "vat_rate"),
        ({"vat_rate": D("-0.1")}, "vat_rate"),
        ({"vat_rate": D("NaN")}, "vat_rate"),
        ({"base_price_per_kwh": D("Infinity")}, "base_price_per_kwh"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"windows": (Window(frozenset(), time(1), time(2), D(1)),)}, "windows[0]"),
        ({"windows": (Window(frozenset({7}), time(1), time(2), D(1)),)}, "windows[0]"),
        ({"windows": (Window(EVERY_DAY, time(1, 0, 30), time(2), D(1)),)}, "windows[0].start"),
        (
            {"windows": (Window(EVERY_DAY, time(1), time(2, tzinfo=UTC), D(1)),)},
            "windows[0].end",
        ),
        ({"windows": (Window(EVERY_DAY, time(1), time(2), D("NaN")),)}, "windows[0].price_per_kwh"),
    ],
)
def test_a_bad_tariff_is_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(TariffError) as caught:
        night_and_weekend(**changes)
    assert caught.value.field == field


def test_windows_of_the_same_day_may_not_overlap() -> None:
    windows = (
        Window(WEEKDAYS, time(6), time(9), D("0.40")),
        Window(frozenset({2}), time(8), time(10), D("0.35")),
    )
    with pytest.raises(TariffError, match="overlaps windows\\[0\\] on Wednesday at 08:00"):
        night_and_weekend(windows=windows)


def test_a_night_window_overlapping_the_next_morning_is_refused() -> None:
    windows = (
        Window(frozenset({FRIDAY}), time(22), time(6), D("0.20")),
        Window(frozenset({SATURDAY}), time(0), time(0), D("0.15")),
    )
    with pytest.raises(TariffError, match="on Saturday at 00:00"):
        night_and_weekend(windows=windows)
    sunday_night = (Window(frozenset({SUNDAY}), time(22), time(6), D("0.2")),)
    monday = (Window(frozenset({0}), time(5), time(7), D("0.3")),)
    with pytest.raises(TariffError, match="on Monday at 05:00"):
        night_and_weekend(windows=sunday_night + monday)


def test_adjacent_windows_are_fine() -> None:
    windows = (
        Window(EVERY_DAY, time(6), time(12), D("0.40")),
        Window(EVERY_DAY, time(12), time(6), D("0.20")),
    )
    night_and_weekend(windows=windows)


def test_series_slots_must_start_on_their_mark_in_local_time() -> None:
    off = series(quarter_hours(at(2026, 6, 3, 10, 5), ["0.1"]))
    with pytest.raises(TariffError, match="15-minute mark"):
        night_and_weekend(day_ahead=off)
    hourly_in_india = series([(at(2026, 6, 3, 10), at(2026, 6, 3, 11), D("0.1"))])
    with pytest.raises(TariffError, match="60-minute mark"):
        night_and_weekend(time_zone="Asia/Kolkata", day_ahead=hourly_in_india)


def test_times_of_day_are_read_as_ocpp_writes_them() -> None:
    assert parse_time_of_day("22:00") == time(22)
    for bad in ("24:00", "7:00", "22:60", "22.00", ""):
        with pytest.raises(TariffError):
            parse_time_of_day(bad, "windows[0].start")


def test_a_horizon_must_be_aware_and_forward() -> None:
    tariff = night_and_weekend()
    with pytest.raises(TariffError):
        price_slots(tariff, at(2026, 6, 3), at(2026, 6, 3))
    with pytest.raises(TariffError):
        price_slots(tariff, datetime(2026, 6, 3), at(2026, 6, 4))
    with pytest.raises(TariffError):
        price_slots(tariff, at(2026, 6, 3), at(2028, 6, 4))


ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]
minutes = st.integers(0, 23 * 60 + 59)


@st.composite
def tariffs(draw: st.DrawFn) -> Tariff:
    windows: list[Window] = []
    for _ in range(draw(st.integers(0, 4))):
        days = frozenset(draw(st.sets(st.integers(0, 6), min_size=1, max_size=7)))
        start, end = draw(minutes), draw(minutes)
        window = Window(days, time(start // 60, start % 60), time(end // 60, end % 60), D(1))
        try:
            Tariff("EUR", D(0), D(0), "UTC", (*windows, window))
        except TariffError:
            continue
        windows.append(window)
    priced = tuple(
        Window(w.days, w.start, w.end, D(draw(st.integers(-50, 50))) / 100) for w in windows
    )
    return Tariff("EUR", D("0.19"), D("0.30"), draw(st.sampled_from(ZONES)), priced)


instants = st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31)).map(
    lambda t: t.replace(tzinfo=UTC)
)


@settings(max_examples=150, deadline=None)
@given(tariffs(), instants, st.integers(1, 10 * 24 * 60))
def test_slots_cover_the_horizon_exactly_and_never_overlap(
    tariff: Tariff, start: datetime, minutes_ahead: int
) -> None:
    end = start + timedelta(minutes=minutes_ahead)
    slots = price_slots(tariff, start, end)
    assert slots[0].start == start
    assert slots[-1].end == end
    for before, after in zip(slots, slots[1:], strict=False):
        assert before.end == after.start
    for slot in slots:
        assert slot.price_per_kwh == price_at(tariff, slot.start)


@settings(max_examples=100, deadline=None)
@given(tariffs(), instants, st.integers(1, 3 * 24 * 60), st.integers(-48, 48), st.integers(1, 200))
def test_slots_with_a_day_ahead_series_cover_exactly_and_take_its_prices(
    tariff: Tariff, start: datetime, minutes_ahead: int, offset_hours: int, count: int
) -> None:
    first = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=offset_hours)
    step = timedelta(minutes=15)
    prices = series([(first + i * step, first + (i + 1) * step, D(i - 100)) for i in range(count)])
    tariff = Tariff(
        tariff.currency,
        tariff.vat_rate,
        tariff.base_price_per_kwh,
        tariff.time_zone,
        tariff.windows,
        prices,
    )
    end = start + timedelta(minutes=minutes_ahead)
    slots = price_slots(tariff, start, end)
    assert (slots[0].start, slots[-1].end) == (start, end)
    for before, after in zip(slots, slots[1:], strict=False):
        assert before.end == after.start
    for slot in slots:
        if prices.start <= slot.start < prices.end:
            index = (slot.start - first) // step
            assert slot.price_per_kwh == tariff.gross(D(index - 100))
            assert slot.end <= first + (index + 1) * step
