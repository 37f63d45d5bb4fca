"""Energy and the charging curve from meter readings."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from charging.energy import ENERGY_REGISTER, POWER, CurvePoint, charging_curve, energy_wh
from charging.events import MeterSample
from tests.charging.conftest import at


def register(minutes: float, wh: float, phase: str | None = None) -> MeterSample:
    return MeterSample(at(minutes), ENERGY_REGISTER, wh, "Wh", phase=phase)


def power(minutes: float, w: float, phase: str | None = None) -> MeterSample:
    return MeterSample(at(minutes), POWER, w, "W", phase=phase)


def test_energy_is_the_stop_register_minus_the_start_register() -> None:
    assert energy_wh(1_000.0, 8_500.0) == 7_500.0


def test_energy_falls_back_on_the_last_register_reading_when_the_stop_value_is_missing() -> None:
    samples = [register(0, 1_000), register(30, 4_000), register(60, 7_000)]
    assert energy_wh(1_000.0, None, samples) == 6_000.0


def test_energy_falls_back_on_the_first_register_reading_when_the_start_value_is_missing() -> None:
    assert energy_wh(None, 9_000.0, [register(0, 2_000), register(5, 3_000)]) == 7_000.0


def test_energy_is_never_negative_when_the_meter_was_replaced() -> None:
    assert energy_wh(50_000.0, 120.0) == 0.0


def test_energy_is_unknown_without_any_reading() -> None:
    assert energy_wh(None, None, [power(1, 7_000)]) is None
    assert energy_wh(100.0, None) is None


def test_per_phase_register_readings_are_summed() -> None:
    samples = [register(60, 1_000, "L1"), register(60, 1_100, "L2"), register(60, 900, "L3")]
    assert energy_wh(0.0, None, samples) == 3_000.0


def test_the_curve_uses_power_readings_when_the_station_sends_them() -> None:
    samples = [power(0, 7_000), register(0, 0), power(1, 7_400), register(1, 120)]
    assert charging_curve(samples) == [CurvePoint(at(0), 7_000), CurvePoint(at(1), 7_400)]


def test_the_curve_sums_the_phases_when_only_per_phase_power_comes() -> None:
    samples = [power(0, 2_300, "L1"), power(0, 2_300, "L2"), power(0, 2_400, "L3")]
    samples.append(power(0, 0, "N"))
    assert charging_curve(samples) == [CurvePoint(at(0), 7_000)]


def test_a_total_power_reading_wins_over_its_phases() -> None:
    samples = [power(0, 2_000, "L1"), power(0, 11_000)]
    assert charging_curve(samples) == [CurvePoint(at(0), 11_000)]


def test_the_curve_is_derived_from_register_deltas_without_power_readings() -> None:
    samples = [register(0, 10_000), register(30, 13_500), register(60, 17_000)]
    assert charging_curve(samples) == [CurvePoint(at(30), 7_000), CurvePoint(at(60), 7_000)]


def test_a_resent_reading_counts_once_in_the_curve() -> None:
    samples = [register(0, 0), register(60, 7_000), register(60, 7_000)]
    assert charging_curve(samples) == [CurvePoint(at(60), 7_000)]


def test_a_falling_register_gives_zero_power_not_negative() -> None:
    assert charging_curve([register(0, 5_000), register(60, 4_000)]) == [CurvePoint(at(60), 0.0)]


readings = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=600),
        st.floats(min_value=0, max_value=1e7, allow_nan=False),
    ),
    max_size=20,
)


@given(readings, st.none() | st.floats(min_value=0, max_value=1e7))
def test_energy_and_curve_are_never_negative(
    values: list[tuple[int, float]], start: float | None
) -> None:
    samples = [register(minute, wh) for minute, wh in values]
    energy = energy_wh(start, None, samples)
    assert energy is None or energy >= 0
    curve = charging_curve(samples)
    assert all(point.power_w >= 0 for point in curve)
    times: list[datetime] = [point.t for point in curve]
    assert times == sorted(set(times))
