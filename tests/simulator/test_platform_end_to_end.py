"""The simulator against the real platform: edge, charging core, database and REST API."""

from __future__ import annotations

import asyncio

import pytest

from simulator.fleet import FleetConfig, run_fleet
from tests.e2e.conftest import STATION_PASSWORD, RunningPlatform
from tests.e2e.http import api_client
from tests.factories import admin_headers_http

TAG = "CARD-SIM-1"


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
async def test_simulated_fleets_charge_and_the_api_shows_their_energy(
    running: RunningPlatform, protocol: str
) -> None:
    prefix = "S16-" if protocol == "1.6" else "S201-"
    config = FleetConfig(
        url=running.ocpp_url,
        stations=3,
        protocol=protocol,
        password=STATION_PASSWORD,
        id_prefix=prefix,
        sessions=2,
        session_seconds=300.0,
        meter_interval=60.0,
        speed=3000.0,
        id_tag=TAG,
    )
    for station_id in config.station_ids():
        running.add_station(station_id)
    running.add_id_token(TAG)

    report = await run_fleet(config)

    assert report.ok, report.summary()
    assert report.stats.sessions_finished == 6
    async with api_client(running.api_url) as http:
        headers = await admin_headers_http(running.platform, http)
        for station in report.stations:
            listed = await http.get(
                "/api/v1/transactions",
                params={"station_id": station.station_id},
                headers=headers,
            )
            assert listed.status_code == 200, listed.text
            items = listed.json()["items"]
            assert [t["state"] for t in items] == ["ended", "ended"]
            assert all(t["id_token"] == TAG for t in items)
            energy = sum(t["energy_wh"] for t in items)
            # the register is sent in whole Wh by 1.6 Start/StopTransaction
            assert energy == pytest.approx(station.energy_wh, abs=2.0)
            assert 1500 < energy < 2000  # two 5-minute sessions at about 11 kW
            detail = await http.get(f"/api/v1/transactions/{items[0]['id']}", headers=headers)
            measurands = {m["measurand"] for m in detail.json()["meter_values"]}
            assert {"Energy.Active.Import.Register", "Power.Active.Import", "SoC"} <= measurands
    await asyncio.sleep(0)
