"""Simulated stations against a real gateway on loopback: whole sessions arrive as events."""

from __future__ import annotations

import pytest

from charging.events import (
    AuthorizationRequested,
    ConnectorStatus,
    ConnectorStatusChanged,
    Event,
    HeartbeatReceived,
    MeterSampled,
    StationBooted,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from simulator.fleet import FleetConfig, run_fleet
from tests.gateway.conftest import PASSWORD, RunningGateway


def _of(events: list[Event], station_id: str) -> list[Event]:
    return [e for e in events if getattr(e, "station_id", None) == station_id]


def _energy(event: Event) -> list[float]:
    return [
        s.value
        for s in getattr(event, "samples", ())
        if s.measurand == "Energy.Active.Import.Register"
    ]


def _fleet(url: str, protocol: str, **more: object) -> FleetConfig:
    options: dict[str, object] = {
        "stations": 2,
        "protocol": protocol,
        "password": PASSWORD,
        "speed": 2000.0,
        "session_seconds": 240.0,
        "meter_interval": 60.0,
    }
    options.update(more)
    return FleetConfig(url=url, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
async def test_each_station_boots_charges_and_stops_in_order(
    gateway: RunningGateway, protocol: str
) -> None:
    report = await run_fleet(_fleet(gateway.url, protocol))

    assert report.ok, report.summary()
    assert report.stats.sessions_finished == 2
    assert sorted(gateway.sink.connections) == [("SIM-0001", protocol), ("SIM-0002", protocol)]
    for station_id in ("SIM-0001", "SIM-0002"):
        kinds = [type(e) for e in _of(gateway.sink.events, station_id)]
        assert kinds[0] is StationBooted
        assert kinds.index(AuthorizationRequested) < kinds.index(TransactionStarted)
        assert kinds.index(TransactionStarted) < kinds.index(TransactionEnded)
        updates = MeterSampled if protocol == "1.6" else TransactionUpdated
        assert kinds.count(updates) == 4  # 240 s of charging sampled every 60 s


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
async def test_meter_values_rise_and_carry_every_measurand(
    gateway: RunningGateway, protocol: str
) -> None:
    await run_fleet(_fleet(gateway.url, protocol, stations=1))

    events = _of(gateway.sink.events, "SIM-0001")
    start = next(e for e in events if isinstance(e, TransactionStarted))
    end = next(e for e in events if isinstance(e, TransactionEnded))
    periodic = [e for e in events if isinstance(e, MeterSampled | TransactionUpdated)]
    register = [v for e in periodic for v in _energy(e)]
    assert register == sorted(register) and register[0] < register[-1]
    begin = start.meter_start_wh if protocol == "1.6" else _energy(start)[0]
    assert begin is not None and begin <= register[0]
    assert end.meter_stop_wh is not None and end.meter_stop_wh >= int(register[-1])
    # 11 kW for 4 minutes is about 0.7 kWh
    assert 500 < register[-1] - begin < 800
    measured = {(s.measurand, s.phase) for s in periodic[0].samples}
    assert measured >= {
        ("Energy.Active.Import.Register", None),
        ("Power.Active.Import", None),
        ("Current.Import", "L1"),
        ("Current.Import", "L3"),
        ("Voltage", "L2-N"),
        ("SoC", None),
    }


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
async def test_status_goes_available_occupied_available(
    gateway: RunningGateway, protocol: str
) -> None:
    await run_fleet(_fleet(gateway.url, protocol, stations=1))

    statuses = [
        e.status
        for e in _of(gateway.sink.events, "SIM-0001")
        if isinstance(e, ConnectorStatusChanged) and e.evse_id == 1
    ]
    assert statuses[0] == ConnectorStatus.AVAILABLE
    assert ConnectorStatus.OCCUPIED in statuses
    assert statuses[-1] == ConnectorStatus.AVAILABLE


async def test_stations_heartbeat_at_the_interval_the_server_gives(
    gateway: RunningGateway,
) -> None:
    # The fake core answers interval 300 s; at speed 1000 that is one every 0.3 s.
    report = await run_fleet(
        _fleet(gateway.url, "2.0.1", stations=1, sessions=0, duration=1.0, speed=1000.0)
    )

    assert report.ok, report.summary()
    beats = [e for e in gateway.sink.events if isinstance(e, HeartbeatReceived)]
    assert 2 <= len(beats) <= 4


async def test_the_duration_cuts_a_long_session_short_with_a_clean_stop(
    gateway: RunningGateway,
) -> None:
    report = await run_fleet(
        _fleet(gateway.url, "1.6", stations=1, session_seconds=10_000.0, speed=100.0, duration=1.0)
    )

    assert report.ok, report.summary()
    ended = [e for e in gateway.sink.events if isinstance(e, TransactionEnded)]
    assert len(ended) == 1 and ended[0].stop_reason == "Local"
