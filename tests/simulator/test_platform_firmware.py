"""Simulated fleets updated through the real platform: the command bus sends the request, the
stations download from a real HTTPS server, and the stations table learns the new version from
their BootNotification."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from charging.commands import SignedUpdateFirmware
from charging.tables import Station
from simulator.firmware import FirmwareFault, build_image
from simulator.fleet import FleetConfig, FleetReport, SimulatedStation, run_fleet
from tests.e2e.conftest import STATION_PASSWORD, RunningPlatform
from tests.eventually import eventually
from tests.simulator.firmware_servers import FileServer, Pki, https_server, make_pki, write_image

IMAGE = build_image("3.1.0", 32 * 1024)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _version(running: RunningPlatform, station_id: str) -> str | None:
    with Session(running.platform.engine) as session:
        station = session.get(Station, station_id)
        return None if station is None else station.firmware_version


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
async def test_a_fleet_with_a_share_of_bad_signature_checks_updates_through_the_platform(
    running: RunningPlatform, pki: Pki, tmp_path: Path, protocol: str
) -> None:
    signature = pki.rsa.sign(write_image(tmp_path, "fw.bin", IMAGE))
    config = FleetConfig(
        url=running.ocpp_url,
        stations=10,
        protocol=protocol,
        password=STATION_PASSWORD,
        id_prefix=f"FW{protocol[0]}-",
        sessions=0,
        speed=100.0,
        manufacturer_roots=(pki.root_pem,),
        download_ca_file=pki.tls_ca_file,
        firmware_fault_shares={FirmwareFault.SIGNATURE: 0.2},
    )
    failing = {s for s, f in config.faults_by_station().items() if FirmwareFault.SIGNATURE in f}
    assert len(failing) == 2
    for station_id in config.station_ids():
        running.add_station(station_id)
    made: list[SimulatedStation] = []
    async with https_server(pki, FileServer(files={"/fw.bin": IMAGE})) as files:
        fleet: asyncio.Task[FleetReport] = asyncio.create_task(
            run_fleet(config, on_station=made.append)
        )
        try:
            await eventually(lambda: len(made) == 10 and made[0].stats.booted >= 10)  # shared stats
            await eventually(
                lambda: all(_version(running, s) == "1.0.0" for s in config.station_ids())
            )
            bus = running.platform.commands
            assert bus is not None
            answers = await asyncio.gather(
                *(
                    bus.send(
                        station_id,
                        SignedUpdateFirmware(
                            100 + n,
                            files.url + "/fw.bin",
                            datetime.now(UTC),
                            pki.rsa.pem,
                            signature,
                        ),
                    )
                    for n, station_id in enumerate(config.station_ids())
                )
            )
            assert {a.status for a in answers} == {"Accepted"}
            healthy = set(config.station_ids()) - failing
            await eventually(lambda: all(_version(running, s) == "3.1.0" for s in healthy))
            await eventually(
                lambda: all(s.state.firmware.request is None for s in made), timeout=15
            )
        finally:
            fleet.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fleet
    assert {_version(running, s) for s in failing} == {"1.0.0"}
    by_id = {s.station_id: s for s in made}
    assert {by_id[s].state.firmware.status for s in failing} == {"InvalidSignature"}
    assert {by_id[s].state.firmware.status for s in healthy} == {"Installed"}
