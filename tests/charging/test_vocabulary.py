"""The protocol-free vocabulary: unit normalisation and connector states."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charging.commands import CommandResult, StopCharging
from charging.events import (
    ConnectorStatus,
    HeartbeatReceived,
    default_unit,
    status_from_v16,
    to_base_unit,
)


@pytest.mark.parametrize(
    ("value", "unit", "multiplier", "expected"),
    [
        (12.5, "kWh", 0, (12500.0, "Wh")),
        (7.4, "kW", 0, (7400.0, "W")),
        (230.0, "V", 0, (230.0, "V")),
        (16.0, "A", 0, (16.0, "A")),
        (57.0, "Percent", 0, (57.0, "%")),
        (1.5, "kvarh", 0, (1500.0, "varh")),
        (2.0, "kVA", 0, (2000.0, "VA")),
        (12366.0, "Wh", 2, (1236600.0, "Wh")),
        (74.0, "kW", -1, (7400.0, "W")),
        (3.0, "Lumen", 0, (3.0, "Lumen")),
    ],
)
def test_readings_are_scaled_to_their_base_unit(
    value: float, unit: str, multiplier: int, expected: tuple[float, str]
) -> None:
    scaled, base = to_base_unit(value, unit, multiplier)

    assert base == expected[1]
    assert scaled == pytest.approx(expected[0])


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_kilo_units_are_a_thousand_base_units(value: float) -> None:
    assert to_base_unit(value, "kWh")[0] == pytest.approx(to_base_unit(value * 1000, "Wh")[0])


@pytest.mark.parametrize(
    ("measurand", "unit"),
    [
        ("Energy.Active.Import.Register", "Wh"),
        ("Energy.Reactive.Export.Interval", "varh"),
        ("Power.Active.Import", "W"),
        ("Power.Reactive.Import", "var"),
        ("Power.Factor", "%"),
        ("Current.Offered", "A"),
        ("Voltage", "V"),
        ("SoC", "%"),
        ("RPM", "Wh"),
    ],
)
def test_a_sample_without_unit_reads_in_its_measurands_natural_unit(
    measurand: str, unit: str
) -> None:
    assert default_unit(measurand) == unit


@pytest.mark.parametrize(
    ("v16", "normalised"),
    [
        ("Available", ConnectorStatus.AVAILABLE),
        ("Preparing", ConnectorStatus.OCCUPIED),
        ("Charging", ConnectorStatus.OCCUPIED),
        ("SuspendedEVSE", ConnectorStatus.OCCUPIED),
        ("SuspendedEV", ConnectorStatus.OCCUPIED),
        ("Finishing", ConnectorStatus.OCCUPIED),
        ("Reserved", ConnectorStatus.RESERVED),
        ("Unavailable", ConnectorStatus.UNAVAILABLE),
        ("Faulted", ConnectorStatus.FAULTED),
    ],
)
def test_v16_connector_states_collapse_onto_the_v201_model(
    v16: str, normalised: ConnectorStatus
) -> None:
    assert status_from_v16(v16) is normalised


def test_an_unknown_v16_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown OCPP 1.6 ChargePointStatus 'Sleeping'"):
        status_from_v16("Sleeping")


def test_events_and_commands_are_frozen_values() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        HeartbeatReceived("CP-1").station_id = "CP-2"  # type: ignore[misc]
    assert StopCharging("1") == StopCharging("1")
    assert CommandResult("Accepted", {}).values == {}
