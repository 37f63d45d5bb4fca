"""A running simulated station follows the charging profile the CSMS sets, unless told not to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from charging.commands import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingSchedule,
    ClearChargingSchedule,
    SchedulePeriod,
    SetChargingSchedule,
    StartCharging,
)
from charging.events import IdToken, MeterSampled, TransactionUpdated
from ocpp_edge.frames import DIALECTS
from ocpp_edge.schemas import Schemas
from simulator.answers import answer
from simulator.station import SimulatedStation
from tests.gateway.conftest import RunningGateway
from tests.simulator.fleet import eventually, one_station

BOTH = pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
STATION = "SIM-0001"
LIMIT_W = 8 * 230.0 * 3  # 8 A on three phases


def _powers(gateway: RunningGateway) -> list[float]:
    return [
        sample.value
        for event in gateway.sink.events
        if isinstance(event, MeterSampled | TransactionUpdated)
        for sample in event.samples
        if sample.measurand == "Power.Active.Import"
    ]


async def _charging(gateway: RunningGateway, station: SimulatedStation) -> str:
    started = await gateway.gateway.send(STATION, StartCharging(IdToken("CARD-9"), 1, 42))
    assert started.status == "Accepted"
    await eventually(lambda: 1 in station.state.started)
    await eventually(lambda: len(_powers(gateway)) >= 1)
    return station.state.sessions[1]


def _tx_profile(ref: str, limit_a: float = 8.0) -> SetChargingSchedule:
    schedule = ChargingSchedule(
        "A",
        (SchedulePeriod(0, limit_a),),
        start=datetime.now(UTC) - timedelta(minutes=1),
        duration_s=3600,
    )
    return SetChargingSchedule(
        1, 7, 1, ChargingProfilePurpose.TX, ChargingProfileKind.ABSOLUTE, schedule, ref
    )


def _composite(station: SimulatedStation, protocol: str) -> list[dict[str, object]]:
    key = "connectorId" if protocol == "1.6" else "evseId"
    reply, _ = answer("GetCompositeSchedule", {key: 1, "duration": 600}, station.state)
    Schemas(DIALECTS[protocol]).validate("GetCompositeSchedule", reply, response=True)
    schedule = reply["chargingSchedule"] if protocol == "1.6" else reply["schedule"]
    return list(schedule["chargingSchedulePeriod"])


@BOTH
async def test_the_drawn_power_follows_the_tx_profile_and_the_composite_reports_it(
    gateway: RunningGateway, protocol: str
) -> None:
    async with one_station(gateway, protocol) as station:
        ref = await _charging(gateway, station)
        assert _powers(gateway)[-1] > LIMIT_W  # the car takes its 16 A at first
        assert _composite(station, protocol) == [
            {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}
        ]

        result = await gateway.gateway.send(STATION, _tx_profile(ref))
        assert result.status == "Accepted"
        seen = len(_powers(gateway))
        await eventually(lambda: len(_powers(gateway)) >= seen + 2)
        assert all(0 < power <= LIMIT_W for power in _powers(gateway)[seen + 1 :])
        assert _composite(station, protocol) == [
            {"startPeriod": 0, "limit": 8.0, "numberPhases": 3}
        ]

        cleared = await gateway.gateway.send(STATION, ClearChargingSchedule(profile_id=7))
        assert cleared.status == "Accepted"
        seen = len(_powers(gateway))
        await eventually(lambda: len(_powers(gateway)) >= seen + 2)
        assert _powers(gateway)[-1] > LIMIT_W


@BOTH
async def test_a_tx_profile_without_a_transaction_is_rejected(
    gateway: RunningGateway, protocol: str
) -> None:
    async with one_station(gateway, protocol):
        result = await gateway.gateway.send(STATION, _tx_profile("12345"))
        assert result.status == "Rejected"


@BOTH
async def test_a_station_told_to_ignore_limits_draws_over_its_profile(
    gateway: RunningGateway, protocol: str
) -> None:
    async with one_station(gateway, protocol, ignore_limits=True) as station:
        ref = await _charging(gateway, station)
        result = await gateway.gateway.send(STATION, _tx_profile(ref))
        assert result.status == "Accepted"  # it says yes ...
        seen = len(_powers(gateway))
        await eventually(lambda: len(_powers(gateway)) >= seen + 2)
        assert all(power > LIMIT_W for power in _powers(gateway)[seen + 1 :])  # ... and overdraws
        assert _composite(station, protocol)[0]["limit"] == 8.0
