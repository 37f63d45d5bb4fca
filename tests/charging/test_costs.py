"""Session costs from energy register readings: pro rata pricing, resets, rounding."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charging.costs import session_cost
from charging.energy import ENERGY_REGISTER
from charging.errors import TariffError
from charging.events import MeterSample
from charging.tariffs import EVERY_DAY, Tariff, Window

D = Decimal
NIGHT = Window(EVERY_DAY, time(22), time(6), D("0.20"))
TARIFF = Tariff("EUR", D("0.19"), D("0.30"), "Europe/Berlin", (NIGHT,))
FLAT = Tariff("EUR", D("0.19"), D("0.30"), "Europe/Berlin")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def reading(when: datetime, wh: float) -> MeterSample:
    return MeterSample(when, ENERGY_REGISTER, wh, "Wh")


def test_energy_is_priced_at_the_tariff_in_force_and_vat_added_once() -> None:
    # 19:00-20:00 UTC is 21:00-22:00 CEST (base), 20:00-21:00 UTC the night rate.
    cost = session_cost(
        [
            reading(at(2026, 6, 3, 19), 1000),
            reading(at(2026, 6, 3, 20), 11000),
            reading(at(2026, 6, 3, 21), 21000),
        ],
        TARIFF,
    )
    assert cost.energy_wh == 20000
    assert cost.net == D("5.00")  # 10 kWh x 0.30 + 10 kWh x 0.20
    assert cost.vat == D("0.95")
    assert cost.gross == D("5.95")
    assert cost.currency == "EUR"
    assert [(line.start, line.energy_wh, line.net_price_per_kwh) for line in cost.lines] == [
        (at(2026, 6, 3, 19), 10000, D("0.30")),
        (at(2026, 6, 3, 20), 10000, D("0.20")),
    ]


def test_an_interval_across_a_price_edge_is_split_pro_rata_by_time() -> None:
    cost = session_cost(
        [reading(at(2026, 6, 3, 19, 45), 0), reading(at(2026, 6, 3, 20, 15), 6000)], TARIFF
    )
    assert [(line.energy_wh, line.net) for line in cost.lines] == [
        (3000, D("0.9")),
        (3000, D("0.6")),
    ]
    assert cost.net == D("1.50")


def test_unordered_and_repeated_readings_are_sorted_and_counted_once() -> None:
    samples = [
        reading(at(2026, 6, 3, 12), 5000),
        reading(at(2026, 6, 3, 10), 1000),
        reading(at(2026, 6, 3, 12), 5000),
        reading(at(2026, 6, 3, 11), 3000),
    ]
    cost = session_cost(samples, FLAT)
    assert cost.energy_wh == 4000
    assert cost.net == D("1.20")


def test_a_register_reset_counts_nothing_for_its_interval_and_counting_goes_on() -> None:
    samples = [
        reading(at(2026, 6, 3, 10), 50000),
        reading(at(2026, 6, 3, 11), 52000),
        reading(at(2026, 6, 3, 12), 100),  # meter replaced: 11:00-12:00 unknown
        reading(at(2026, 6, 3, 13), 1100),
    ]
    cost = session_cost(samples, FLAT)
    assert cost.energy_wh == 3000
    assert cost.resets == 1


def test_fewer_than_two_readings_cost_nothing() -> None:
    for samples in ([], [reading(at(2026, 6, 3, 10), 1000)]):
        cost = session_cost(samples, TARIFF)
        assert (cost.net, cost.vat, cost.gross, cost.lines) == (D("0.00"), D("0.00"), D("0.00"), ())


def test_totals_are_rounded_half_up_to_the_minor_unit_only_at_the_end() -> None:
    # Two lines of 10 Wh at 0.25 (0.0025 each) would round to 0.00 each; their sum is 0.005.
    noon = Window(EVERY_DAY, time(12), time(13), D("0.25"))
    tariff = Tariff("EUR", D("0.19"), D("0.25"), "UTC", (noon,))
    samples = [reading(at(2026, 6, 3, 11 + i), 10 * i) for i in range(3)]
    cost = session_cost(samples, tariff)
    assert [line.net for line in cost.lines] == [D("0.0025"), D("0.0025")]
    assert cost.net_unrounded == D("0.005")
    assert cost.net == D("0.01")  # half up
    samples = [reading(at(2026, 6, 3, 10), 0), reading(at(2026, 6, 3, 11), 30)]
    yen = session_cost(samples, Tariff("JPY", D("0.10"), D("50"), "Asia/Tokyo"))
    assert yen.net == D("2")  # 1.5 yen rounds half up
    assert yen.vat == D("0")  # 0.15 yen
    assert yen.gross == D("2")


def test_negative_prices_give_money_back() -> None:
    tariff = Tariff("EUR", D("0.19"), D("-0.10"), "UTC")
    cost = session_cost(
        [reading(at(2026, 6, 3, 10), 0), reading(at(2026, 6, 3, 11), 10000)], tariff
    )
    assert cost.net == D("-1.00")
    assert cost.gross == D("-1.19")


def test_naive_reading_times_are_refused() -> None:
    with pytest.raises(TariffError) as caught:
        session_cost(
            [reading(datetime(2026, 6, 3, 10), 0), reading(datetime(2026, 6, 3, 11), 1)], FLAT
        )
    assert caught.value.field == "samples"


@st.composite
def sessions(draw: st.DrawFn) -> list[MeterSample]:
    start = draw(st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31))).replace(
        tzinfo=UTC, microsecond=0
    )
    samples = [reading(start, draw(st.integers(0, 10**6)))]
    for _ in range(draw(st.integers(1, 20))):
        step = timedelta(seconds=draw(st.integers(1, 4 * 3600)))
        samples.append(
            reading(samples[-1].timestamp + step, samples[-1].value + draw(st.integers(0, 20000)))
        )
    return samples


@settings(max_examples=150, deadline=None)
@given(sessions(), st.data())
def test_cost_is_additive_over_a_split_session(
    samples: list[MeterSample], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(samples) - 1))
    whole = session_cost(samples, TARIFF)
    first, second = session_cost(samples[: cut + 1], TARIFF), session_cost(samples[cut:], TARIFF)
    assert abs(first.net_unrounded + second.net_unrounded - whole.net_unrounded) < D("1e-20")
    assert first.energy_wh + second.energy_wh == whole.energy_wh


@settings(max_examples=100, deadline=None)
@given(sessions())
def test_zero_energy_costs_zero(samples: list[MeterSample]) -> None:
    flat_register = [reading(s.timestamp, samples[0].value) for s in samples]
    cost = session_cost(flat_register, TARIFF)
    assert (cost.energy_wh, cost.net, cost.gross, cost.lines) == (0, 0, 0, ())


@settings(max_examples=100, deadline=None)
@given(sessions())
def test_a_flat_tariff_costs_energy_times_price(samples: list[MeterSample]) -> None:
    cost = session_cost(samples, FLAT)
    energy = D(repr(samples[-1].value)) - D(repr(samples[0].value))
    assert cost.energy_wh == energy
    assert cost.net_unrounded == energy * D("0.30") / 1000
    assert cost.gross == cost.net + cost.vat
