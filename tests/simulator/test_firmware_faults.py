"""Faulty simulated stations, replaced requests, probes of a station's firmware status, and
updates that wait for a charging session to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from charging.commands import (
    SignedUpdateFirmware,
    StartCharging,
    StopCharging,
    Trigger,
    TriggerKind,
)
from charging.events import FirmwareStatusChanged, IdToken, StationBooted, TransactionEnded
from simulator.answers import answer
from simulator.certificates import CertificateStore
from simulator.firmware import (
    FirmwareFault,
    FirmwareRequest,
    FirmwareState,
    RequestKind,
    build_image,
    faulty_stations,
    image_version,
    refusal,
)
from simulator.fleet import FleetConfig
from simulator.maintenance import StartFirmwareUpdate
from simulator.state import StationState
from tests.gateway.conftest import RunningGateway
from tests.simulator.firmware_servers import FileServer, Pki, https_server, make_pki, write_image
from tests.simulator.fleet import eventually, one_station

STATION = "SIM-0001"
IMAGE = build_image("2.0.0", 8192)
PATH = "/fw/cl-2.0.0.bin"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
async def files(pki: Pki) -> AsyncIterator[FileServer]:
    async with https_server(pki, FileServer(files={PATH: IMAGE})) as server:
        yield server


@pytest.fixture(scope="module")
def signature(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> str:
    return pki.rsa.sign(write_image(tmp_path_factory.mktemp("image"), "image.bin", IMAGE))


def _options(pki: Pki, *faults: FirmwareFault, **more: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "manufacturer_roots": (pki.root_pem,),
        "download_ca_file": pki.tls_ca_file,
        "firmware_faults": {STATION: frozenset(faults)},
    }
    options.update(more)
    return options


def _reports(gateway: RunningGateway) -> list[FirmwareStatusChanged]:
    return [e for e in gateway.sink.events if isinstance(e, FirmwareStatusChanged)]


def _statuses(gateway: RunningGateway, request_id: int | None = None) -> list[str]:
    return [e.status for e in _reports(gateway) if request_id in (None, e.request_id)]


def _versions(gateway: RunningGateway) -> list[str | None]:
    return [e.firmware_version for e in gateway.sink.events if isinstance(e, StationBooted)]


def _update(files: FileServer, pki: Pki, signature: str, request_id: int = 1, **more: Any) -> Any:
    at = more.pop("at", None) or datetime.now(UTC) + timedelta(seconds=more.pop("in_seconds", 0))
    return SignedUpdateFirmware(
        request_id, files.url + PATH, at, pki.rsa.pem, signature, retries=0, **more
    )


VERIFIED = ["Downloading", "Downloaded", "SignatureVerified"]


@pytest.mark.parametrize(
    ("fault", "statuses", "versions"),
    [
        (FirmwareFault.DOWNLOAD, ["Downloading", "DownloadFailed"], ["1.0.0"]),
        (FirmwareFault.SIGNATURE, ["Downloading", "Downloaded", "InvalidSignature"], ["1.0.0"]),
        (FirmwareFault.INSTALL, [*VERIFIED, "Installing", "InstallationFailed"], ["1.0.0"]),
        (
            FirmwareFault.OLD_VERSION,
            [*VERIFIED, "Installing", "InstallRebooting", "Installed"],
            ["1.0.0", "1.0.0"],
        ),
    ],
)
async def test_a_faulty_station_fails_its_update_the_way_it_was_told(
    gateway: RunningGateway,
    files: FileServer,
    pki: Pki,
    signature: str,
    fault: FirmwareFault,
    statuses: list[str],
    versions: list[str],
) -> None:
    async with one_station(gateway, "2.0.1", **_options(pki, fault)) as station:
        assert (await gateway.gateway.send(STATION, _update(files, pki, signature))).status == (
            "Accepted"
        )
        await eventually(lambda: _statuses(gateway)[-1:] == statuses[-1:])
        await eventually(lambda: len(_versions(gateway)) == len(versions))
    assert _statuses(gateway, 1) == statuses
    assert _versions(gateway) == versions  # old-version reboots, but into 1.0.0
    assert station.state.firmware.version == "1.0.0"
    if fault is FirmwareFault.DOWNLOAD:
        assert files.seen == []


async def test_a_silent_station_reports_nothing_but_answers_a_probe_and_boots_the_new_version(
    gateway: RunningGateway, files: FileServer, pki: Pki, signature: str
) -> None:
    async with one_station(gateway, "2.0.1", **_options(pki, FirmwareFault.SILENT)) as station:
        await gateway.gateway.send(STATION, _update(files, pki, signature, 4, in_seconds=60))
        await eventually(lambda: station.state.firmware.status == "DownloadScheduled")
        assert _reports(gateway) == []
        probe = await gateway.gateway.send(
            STATION, Trigger(TriggerKind.FIRMWARE_STATUS_NOTIFICATION)
        )
        assert probe.status == "Accepted"
        await eventually(lambda: _reports(gateway) != [])
        assert [(e.status, e.request_id) for e in _reports(gateway)] == [("DownloadScheduled", 4)]


async def test_a_silent_station_that_finished_boots_the_new_version_and_probes_idle(
    gateway: RunningGateway, files: FileServer, pki: Pki, signature: str
) -> None:
    async with one_station(gateway, "1.6", **_options(pki, FirmwareFault.SILENT)) as station:
        await gateway.gateway.send(STATION, _update(files, pki, signature, 4))
        await eventually(lambda: _versions(gateway) == ["1.0.0", "2.0.0"])
        await eventually(lambda: station.state.firmware.request is None)
        assert _reports(gateway) == []
        await gateway.gateway.send(
            STATION, Trigger(TriggerKind.FIRMWARE_STATUS_NOTIFICATION, extended=True)
        )
        await eventually(lambda: _reports(gateway) != [])
    assert [(e.status, e.request_id, e.signed) for e in _reports(gateway)] == [("Idle", None, True)]


async def test_a_stalled_download_is_probed_and_replaced_with_accepted_canceled(
    gateway: RunningGateway, files: FileServer, pki: Pki, signature: str
) -> None:
    async with one_station(gateway, "2.0.1", **_options(pki, FirmwareFault.STALL)) as station:
        await gateway.gateway.send(STATION, _update(files, pki, signature, 11))
        await eventually(lambda: _statuses(gateway) == ["Downloading"])
        await gateway.gateway.send(STATION, Trigger(TriggerKind.FIRMWARE_STATUS_NOTIFICATION))
        await eventually(lambda: len(_reports(gateway)) == 2)
        assert [(e.status, e.request_id) for e in _reports(gateway)] == [("Downloading", 11)] * 2
        again = await gateway.gateway.send(STATION, _update(files, pki, signature, 12))
        assert again.status == "AcceptedCanceled"
        await eventually(lambda: _statuses(gateway, 12) == ["Downloading"])
        assert station.state.firmware.request is not None
        assert station.state.firmware.request.request_id == 12


async def test_a_new_request_cancels_the_running_one_which_stops(
    gateway: RunningGateway, files: FileServer, pki: Pki, signature: str
) -> None:
    first_at = datetime.now(UTC) + timedelta(seconds=0.4)
    async with one_station(gateway, "2.0.1", **_options(pki)):
        first = await gateway.gateway.send(STATION, _update(files, pki, signature, 21, at=first_at))
        await eventually(lambda: _statuses(gateway) == ["DownloadScheduled"])
        second = await gateway.gateway.send(STATION, _update(files, pki, signature, 22))
        await eventually(lambda: "Installed" in _statuses(gateway))
        # well past the first request's retrieve time: it never woke up
        await eventually(lambda: datetime.now(UTC) > first_at + timedelta(seconds=0.2))
    assert (first.status, second.status) == ("Accepted", "AcceptedCanceled")
    assert _statuses(gateway, 21) == ["DownloadScheduled"]
    assert _statuses(gateway, 22)[-1] == "Installed"
    assert len(files.seen) == 1


@pytest.mark.parametrize(
    ("protocol", "trigger", "expected"),
    [
        ("1.6", Trigger(TriggerKind.FIRMWARE_STATUS_NOTIFICATION), ("Idle", None, False)),
        (
            "1.6",
            Trigger(TriggerKind.FIRMWARE_STATUS_NOTIFICATION, extended=True),
            ("Idle", None, True),
        ),
        ("2.0.1", Trigger(TriggerKind.FIRMWARE_STATUS_NOTIFICATION), ("Idle", None, True)),
        ("2.1", Trigger(TriggerKind.FIRMWARE_STATUS_NOTIFICATION), ("Idle", None, True)),
    ],
)
async def test_an_idle_station_answers_a_firmware_status_probe_with_idle(
    gateway: RunningGateway, protocol: str, trigger: Trigger, expected: tuple[object, ...]
) -> None:
    async with one_station(gateway, protocol):
        assert (await gateway.gateway.send(STATION, trigger)).status == "Accepted"
        await eventually(lambda: _reports(gateway) != [])
    assert [(e.status, e.request_id, e.signed) for e in _reports(gateway)] == [expected]


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
async def test_installation_waits_until_the_charging_session_has_ended(
    gateway: RunningGateway, files: FileServer, pki: Pki, signature: str, protocol: str
) -> None:
    async with one_station(gateway, protocol, **_options(pki)) as station:
        await gateway.gateway.send(STATION, StartCharging(IdToken("CARD-1"), 1))
        await eventually(lambda: station.stats.sessions_started == 1)
        await gateway.gateway.send(STATION, _update(files, pki, signature, 31))
        await eventually(lambda: "SignatureVerified" in _statuses(gateway))
        assert "Installing" not in _statuses(gateway)
        await gateway.gateway.send(STATION, StopCharging(station.state.sessions[1]))
        await eventually(lambda: "Installed" in _statuses(gateway))
    events = gateway.sink.events
    ended = next(i for i, e in enumerate(events) if isinstance(e, TransactionEnded))
    installing = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, FirmwareStatusChanged) and e.status == "Installing"
    )
    assert ended < installing


def test_a_station_installing_rejects_a_new_request() -> None:
    request = FirmwareRequest(RequestKind.V2, "https://x/fw", datetime.now(UTC), 1)
    state = FirmwareState("1.0.0", request=request, installing=True)
    assert refusal(request, CertificateStore(), state, datetime.now(UTC)) == "Rejected"
    state.installing = False
    assert refusal(request, CertificateStore(), state, datetime.now(UTC)) is None


def test_a_plain_16_update_to_a_station_that_runs_one_replaces_it() -> None:
    state = StationState("1.6", v16_firmware="plain")
    payload = {"location": "ftp://h/fw.bin", "retrieveDate": "2026-01-01T00:00:00Z"}
    reply, effect = answer("UpdateFirmware", payload, state)
    again, replaced = answer("UpdateFirmware", payload, state)
    assert (reply, again) == ({}, {})
    assert isinstance(effect, StartFirmwareUpdate) and isinstance(replaced, StartFirmwareUpdate)
    assert state.firmware.request is replaced.request


def test_simulated_images_name_their_version_and_nothing_else_does() -> None:
    assert image_version(build_image("2.1.0-rc.1")) == "2.1.0-rc.1"
    assert image_version(b"CHARGELINE-SIMULATED-FIRMWARE version=\xff\n") is None
    assert image_version(b"\x7fELF") is None
    with pytest.raises(ValueError, match="simple version"):
        build_image("1.0 ; rm -rf")


def test_a_fault_share_picks_exactly_that_many_stations_the_same_every_time() -> None:
    ids = [f"SIM-{n:04d}" for n in range(1, 201)]
    chosen = faulty_stations(ids, 0.1, FirmwareFault.SIGNATURE)
    assert len(chosen) == 20 and chosen <= set(ids)
    assert faulty_stations(reversed(ids), 0.1, FirmwareFault.SIGNATURE) == chosen
    assert faulty_stations(ids, 0.1, FirmwareFault.INSTALL) != chosen
    assert faulty_stations(ids, 0.0, FirmwareFault.INSTALL) == set()
    assert len(faulty_stations(ids, 1.0, FirmwareFault.INSTALL)) == 200


def test_a_fleet_merges_shared_and_named_faults() -> None:
    config = FleetConfig(
        url="ws://x",
        stations=10,
        firmware_fault_shares={FirmwareFault.DOWNLOAD: 0.3},
        firmware_faults={"SIM-0001": frozenset({FirmwareFault.SILENT})},
    )
    faults = config.faults_by_station()
    assert sum(FirmwareFault.DOWNLOAD in f for f in faults.values()) == 3
    assert FirmwareFault.SILENT in faults["SIM-0001"]
    assert set(faults) == set(config.station_ids())
