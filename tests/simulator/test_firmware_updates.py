"""A simulated station updates itself: HTTPS and FTP downloads, signatures checked against its
installed manufacturer root, the status sequence of each OCPP version, reboot and boot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from charging.commands import (
    SignedUpdateFirmware,
    UpdateFirmware,
)
from charging.events import (
    BootReason,
    FirmwareStatusChanged,
    SecurityEventRaised,
    StationBooted,
)
from ocpp_edge.session import StationCallError
from simulator.firmware import build_image
from tests.gateway.conftest import RunningGateway
from tests.simulator.firmware_servers import (
    FileServer,
    Pki,
    Signer,
    ftp_server,
    https_server,
    make_pki,
    sha256,
    write_image,
)
from tests.simulator.fleet import eventually, one_station

STATION = "SIM-0001"
SIGNED = ["Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting"]
IMAGE = build_image("2.0.0", 64 * 1024)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
async def files(pki: Pki) -> AsyncIterator[FileServer]:
    async with https_server(pki, FileServer(files={"/fw/cl-2.0.0.bin": IMAGE})) as server:
        yield server


def _signature(signer: Signer, tmp_path: Path, data: bytes = IMAGE) -> str:
    return signer.sign(write_image(tmp_path, "image.bin", data))


def _station(pki: Pki, protocol: str, **more: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "manufacturer_roots": (pki.root_pem,),
        "download_ca_file": pki.tls_ca_file,
    }
    options.update(more)
    return options


def _statuses(gateway: RunningGateway, request_id: int | None = None) -> list[str]:
    return [
        e.status
        for e in gateway.sink.events
        if isinstance(e, FirmwareStatusChanged)
        and (request_id is None or e.request_id == request_id)
    ]


def _boots(gateway: RunningGateway) -> list[StationBooted]:
    return [e for e in gateway.sink.events if isinstance(e, StationBooted)]


def _now(seconds: float = 0.0) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


@pytest.mark.parametrize("protocol", ["2.0.1", "2.1", "1.6"])
@pytest.mark.parametrize("key", ["rsa", "ec"])
async def test_a_signed_update_over_https_installs_reboots_and_boots_the_new_version(
    gateway: RunningGateway, files: FileServer, pki: Pki, tmp_path: Path, protocol: str, key: str
) -> None:
    signer = pki.rsa if key == "rsa" else pki.ec
    async with one_station(gateway, protocol, **_station(pki, protocol)) as station:
        answer = await gateway.gateway.send(
            STATION,
            SignedUpdateFirmware(
                7,
                files.url + "/fw/cl-2.0.0.bin",
                _now(),
                signer.pem,
                _signature(signer, tmp_path),
                retries=0,
            ),
        )
        assert answer.status == "Accepted"
        await eventually(lambda: "Installed" in _statuses(gateway))

    assert _statuses(gateway) == [*SIGNED, "Installed"]
    reports = [e for e in gateway.sink.events if isinstance(e, FirmwareStatusChanged)]
    assert {(e.request_id, e.signed) for e in reports} == {(7, True)}
    first, second = _boots(gateway)
    assert (first.firmware_version, second.firmware_version) == ("1.0.0", "2.0.0")
    if protocol != "1.6":
        assert (first.reason, second.reason) == (BootReason.POWER_UP, BootReason.FIRMWARE_UPDATE)
    # Installed comes after the new boot (2.0.1 L01: report from the new firmware)
    events = gateway.sink.events
    assert events.index(second) < events.index(reports[-1])
    assert station.state.firmware.version == "2.0.0"


async def test_a_plain_16_station_updates_over_ftp_without_request_ids(
    gateway: RunningGateway, pki: Pki, tmp_path: Path
) -> None:
    async with ftp_server(tmp_path / "ftp") as ftp:
        (ftp.root / "cl-2.0.0.bin").write_bytes(IMAGE)
        async with one_station(gateway, "1.6", v16_firmware="plain") as station:
            answer = await gateway.gateway.send(
                STATION, UpdateFirmware(ftp.url("cl-2.0.0.bin"), _now(), retries=0)
            )
            assert (answer.status, answer.payload) == ("Accepted", {})
            await eventually(lambda: "Installed" in _statuses(gateway))

    assert _statuses(gateway) == ["Downloading", "Downloaded", "Installing", "Installed"]
    reports = [e for e in gateway.sink.events if isinstance(e, FirmwareStatusChanged)]
    assert {(e.request_id, e.signed) for e in reports} == {(None, False)}
    assert [b.firmware_version for b in _boots(gateway)] == ["1.0.0", "2.0.0"]
    assert station.state.firmware.version == "2.0.0"


async def test_a_signed_16_update_over_ftp_reports_signed_statuses(
    gateway: RunningGateway, pki: Pki, tmp_path: Path
) -> None:
    async with ftp_server(tmp_path / "ftp") as ftp:
        (ftp.root / "cl.bin").write_bytes(IMAGE)
        async with one_station(gateway, "1.6", **_station(pki, "1.6")):
            answer = await gateway.gateway.send(
                STATION,
                SignedUpdateFirmware(
                    3, ftp.url("cl.bin"), _now(), pki.rsa.pem, _signature(pki.rsa, tmp_path)
                ),
            )
            assert answer.status == "Accepted"
            await eventually(lambda: "Installed" in _statuses(gateway))
    assert _statuses(gateway, 3) == [*SIGNED, "Installed"]


async def test_a_whitepaper_station_refuses_plain_updates_and_a_plain_one_signed_updates(
    gateway: RunningGateway, pki: Pki, tmp_path: Path
) -> None:
    async with one_station(gateway, "1.6", **_station(pki, "1.6")):
        with pytest.raises(StationCallError) as plain:
            await gateway.gateway.send(STATION, UpdateFirmware("https://x/fw.bin", _now()))
    assert plain.value.code == "NotSupported"
    async with one_station(gateway, "1.6", v16_firmware="plain"):
        with pytest.raises(StationCallError) as signed:
            await gateway.gateway.send(
                STATION,
                SignedUpdateFirmware(
                    1, "https://x/fw.bin", _now(), pki.rsa.pem, _signature(pki.rsa, tmp_path)
                ),
            )
    assert signed.value.code == "NotImplemented"
    assert _statuses(gateway) == []


@pytest.mark.parametrize("protocol", ["2.0.1", "1.6"])
async def test_a_bad_signature_is_reported_and_nothing_is_installed(
    gateway: RunningGateway, files: FileServer, pki: Pki, tmp_path: Path, protocol: str
) -> None:
    other = _signature(pki.rsa, tmp_path, build_image("6.6.6"))
    async with one_station(gateway, protocol, **_station(pki, protocol)) as station:
        answer = await gateway.gateway.send(
            STATION,
            SignedUpdateFirmware(9, files.url + "/fw/cl-2.0.0.bin", _now(), pki.rsa.pem, other),
        )
        assert answer.status == "Accepted"
        await eventually(lambda: "InvalidSignature" in _statuses(gateway))
        await eventually(
            lambda: any(isinstance(e, SecurityEventRaised) for e in gateway.sink.events)
        )
    assert _statuses(gateway, 9) == ["Downloading", "Downloaded", "InvalidSignature"]
    security = [e for e in gateway.sink.events if isinstance(e, SecurityEventRaised)]
    assert [e.type for e in security] == ["InvalidFirmwareSignature"]
    assert len(_boots(gateway)) == 1 and station.state.firmware.version == "1.0.0"


@pytest.mark.parametrize("who", ["stranger", "expired", "no root installed", "garbage"])
async def test_a_signing_certificate_the_station_cannot_trust_is_answered_invalid_certificate(
    gateway: RunningGateway, files: FileServer, pki: Pki, tmp_path: Path, who: str
) -> None:
    signer = pki.expired if who == "expired" else pki.stranger if who == "stranger" else pki.ec
    roots = () if who == "no root installed" else (pki.root_pem,)
    certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    async with one_station(gateway, "2.0.1", **_station(pki, "2.0.1", manufacturer_roots=roots)):
        answer = await gateway.gateway.send(
            STATION,
            SignedUpdateFirmware(
                4,
                files.url + "/fw/cl-2.0.0.bin",
                _now(),
                certificate if who == "garbage" else signer.pem,
                _signature(signer, tmp_path),
            ),
        )
        assert answer.status == "InvalidCertificate"
        await eventually(
            lambda: any(isinstance(e, SecurityEventRaised) for e in gateway.sink.events)
        )
    security = [e for e in gateway.sink.events if isinstance(e, SecurityEventRaised)]
    assert [e.type for e in security] == ["InvalidFirmwareSigningCertificate"]
    assert _statuses(gateway) == [] and files.seen == []


async def test_the_download_waits_for_retrieve_date_time(
    gateway: RunningGateway, files: FileServer, pki: Pki, tmp_path: Path
) -> None:
    retrieve_at = _now(0.6)
    async with one_station(gateway, "2.0.1", **_station(pki, "2.0.1")):
        await gateway.gateway.send(
            STATION,
            SignedUpdateFirmware(
                5,
                files.url + "/fw/cl-2.0.0.bin",
                retrieve_at,
                pki.ec.pem,
                _signature(pki.ec, tmp_path),
            ),
        )
        await eventually(lambda: _statuses(gateway) == ["DownloadScheduled"])
        assert files.seen == []
        await eventually(lambda: "Installed" in _statuses(gateway))
    assert _statuses(gateway) == ["DownloadScheduled", *SIGNED, "Installed"]
    assert files.seen[0].at >= retrieve_at.timestamp()


async def test_install_date_time_is_waited_for_after_the_signature(
    gateway: RunningGateway, files: FileServer, pki: Pki, tmp_path: Path
) -> None:
    async with one_station(gateway, "2.0.1", **_station(pki, "2.0.1")):
        await gateway.gateway.send(
            STATION,
            SignedUpdateFirmware(
                5,
                files.url + "/fw/cl-2.0.0.bin",
                _now(),
                pki.ec.pem,
                _signature(pki.ec, tmp_path),
                install_at=_now(0.5),
            ),
        )
        await eventually(lambda: "Installed" in _statuses(gateway))
    assert _statuses(gateway) == [*SIGNED[:3], "InstallScheduled", *SIGNED[3:], "Installed"]


async def test_failed_downloads_are_retried_every_retry_interval_then_reported(
    gateway: RunningGateway, files: FileServer, pki: Pki
) -> None:
    async with one_station(gateway, "2.0.1", **_station(pki, "2.0.1")):
        await gateway.gateway.send(
            STATION,
            UpdateFirmware(
                files.url + "/fw/missing.bin", _now(), 6, retries=2, retry_interval_s=30
            ),
        )
        await eventually(lambda: "DownloadFailed" in _statuses(gateway))
    assert _statuses(gateway, 6) == ["Downloading"] * 3 + ["DownloadFailed"]
    gets = [s for s in files.seen if s.path == "/fw/missing.bin"]
    assert len(gets) == 3
    # 30 simulated seconds at speed 100 between attempts
    assert all(b.at - a.at >= 0.29 for a, b in zip(gets, gets[1:], strict=False))


async def test_a_cut_download_resumes_with_range_and_installs(
    gateway: RunningGateway, pki: Pki, tmp_path: Path
) -> None:
    server = FileServer(files={"/fw.bin": IMAGE}, cut_after=10_000)
    async with (
        https_server(pki, server) as files,
        one_station(gateway, "2.0.1", **_station(pki, "2.0.1")) as station,
    ):
        await gateway.gateway.send(
            STATION,
            SignedUpdateFirmware(
                8, files.url + "/fw.bin", _now(), pki.rsa.pem, _signature(pki.rsa, tmp_path)
            ),
        )
        await eventually(lambda: "Installed" in _statuses(gateway))
    assert [s.range for s in files.seen] == [None, "bytes=10000-"]
    assert _statuses(gateway) == [*SIGNED, "Installed"]  # the signature held over the resume
    assert station.state.firmware.version == "2.0.0"


async def test_a_file_that_does_not_match_the_announced_digest_fails_the_download(
    gateway: RunningGateway, pki: Pki
) -> None:
    server = FileServer(files={"/fw.bin": IMAGE}, digest={"/fw.bin": sha256(b"other")})
    async with (
        https_server(pki, server) as files,
        one_station(gateway, "2.0.1", **_station(pki, "2.0.1")),
    ):
        await gateway.gateway.send(
            STATION, UpdateFirmware(files.url + "/fw.bin", _now(), 2, retries=0)
        )
        await eventually(lambda: "DownloadFailed" in _statuses(gateway))
    assert _statuses(gateway) == ["Downloading", "DownloadFailed"]


async def test_ftp_with_wrong_credentials_fails_the_download(
    gateway: RunningGateway, tmp_path: Path
) -> None:
    async with ftp_server(tmp_path / "ftp") as ftp:
        (ftp.root / "cl.bin").write_bytes(IMAGE)
        async with one_station(gateway, "2.0.1"):
            await gateway.gateway.send(
                STATION,
                UpdateFirmware(ftp.url("cl.bin", password="wrong-pass"), _now(), 3, retries=0),
            )
            await eventually(lambda: "DownloadFailed" in _statuses(gateway))
    assert _statuses(gateway) == ["Downloading", "DownloadFailed"]


async def test_an_image_that_names_no_version_fails_verification(
    gateway: RunningGateway, pki: Pki
) -> None:
    server = FileServer(files={"/fw.bin": b"\x7fELF not a simulated image"})
    async with (
        https_server(pki, server) as files,
        one_station(gateway, "2.0.1", **_station(pki, "2.0.1")),
    ):
        await gateway.gateway.send(
            STATION, UpdateFirmware(files.url + "/fw.bin", _now(), 2, retries=0)
        )
        await eventually(lambda: "InstallVerificationFailed" in _statuses(gateway))
    assert _statuses(gateway) == ["Downloading", "Downloaded", "InstallVerificationFailed"]


async def test_a_missing_ftp_file_fails_the_download(
    gateway: RunningGateway, tmp_path: Path
) -> None:
    async with ftp_server(tmp_path / "ftp") as ftp, one_station(gateway, "2.0.1"):
        await gateway.gateway.send(
            STATION, UpdateFirmware(ftp.url("nope.bin"), _now(), 3, retries=1)
        )
        await eventually(lambda: "DownloadFailed" in _statuses(gateway))
    assert _statuses(gateway) == ["Downloading", "Downloading", "DownloadFailed"]
