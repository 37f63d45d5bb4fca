"""Charging curves for charts: exact below the bound, thinned per bucket above it (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from charging.curves import Bucket, bucketed_curve, session_curve
from charging.energy import ENERGY_REGISTER, POWER
from charging.events import MeterSample

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_short_session_keeps_every_reading_and_counts_energy_from_meter_start() -> None:
    samples = [
        MeterSample(at(0), ENERGY_REGISTER, 1_500.0, "Wh"),
        MeterSample(at(0), POWER, 7_000.0, "W"),
        MeterSample(at(60), ENERGY_REGISTER, 1_620.0, "Wh"),
        MeterSample(at(60), POWER, 7_100.0, "W"),
    ]
    curve = session_curve(samples, meter_start_wh=1_000.0)
    assert curve.power_w.values == (7_000.0, 7_100.0) and curve.power_w.t == (at(0), at(60))
    assert curve.energy_wh.values == (500.0, 620.0)
    assert (curve.readings, curve.thinned) == (4, False)


def test_a_long_session_keeps_each_buckets_extremes_within_the_bound() -> None:
    samples = [
        MeterSample(at(n), POWER, 50_000.0 if n == 333 else 1_000.0 + n % 7, "W")
        for n in range(1_000)
    ] + [MeterSample(at(n), ENERGY_REGISTER, float(n), "Wh") for n in range(1_000)]
    curve = session_curve(samples, meter_start_wh=None, max_points=40)
    assert curve.thinned and len(curve.power_w) <= 40 and len(curve.energy_wh) <= 40
    assert max(curve.power_w.values) == 50_000.0 and min(curve.power_w.values) == 1_000.0
    assert curve.energy_wh.t[0] == at(0) and curve.energy_wh.t[-1] == at(999)
    assert curve.energy_wh.values[-1] == 999.0
    assert list(curve.power_w.t) == sorted(curve.power_w.t)


def test_buckets_become_low_and_high_points_and_energy_without_power_becomes_power() -> None:
    with_power = bucketed_curve(
        [
            Bucket(at(0), at(50), 6_000.0, 7_000.0, 100.0),
            Bucket(at(60), at(60), 7.5e3, 7.5e3, 200.0),
        ],
        meter_start_wh=0.0,
        readings=99,
    )
    assert with_power.power_w.t == (at(0), at(50), at(60))
    assert with_power.power_w.values == (6_000.0, 7_000.0, 7_500.0)
    assert with_power.energy_wh.values == (100.0, 200.0) and with_power.thinned
    energy_only = bucketed_curve(
        [Bucket(at(0), at(30), None, None, 1_000.0), Bucket(at(40), at(90), None, None, 1_100.0)],
        meter_start_wh=None,
        readings=99,
    )
    # 100 Wh in the 60 s between the buckets' last readings is 6 kW.
    assert energy_only.power_w.t == (at(90),) and energy_only.power_w.values == (6_000.0,)
    assert energy_only.energy_wh.values == (0.0, 100.0)
