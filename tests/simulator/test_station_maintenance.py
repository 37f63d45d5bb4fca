"""A simulated station's installed roots (InstallCertificate, GetInstalledCertificateIds,
DeleteCertificate) and its log uploads (GetLog, 1.6 GetDiagnostics) to real servers."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from charging.commands import (
    CertificateHashData,
    CertificateUse,
    DeleteCertificate,
    GetDiagnostics,
    GetInstalledCertificateIds,
    GetLog,
    InstallCertificate,
    LogType,
    SignedUpdateFirmware,
    Trigger,
    TriggerKind,
)
from charging.events import LogUploadStatusChanged
from tests.gateway.conftest import RunningGateway
from tests.simulator.firmware_servers import (
    Pki,
    ftp_server,
    https_server,
    make_pki,
    pem,
)
from tests.simulator.fleet import eventually, one_station

STATION = "SIM-0001"
BOTH = pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
ROOT = CertificateUse.MANUFACTURER_ROOT


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _openssl_serial(certificate_pem: str) -> str:
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-serial"],
        input=certificate_pem.encode(),
        check=True,
        capture_output=True,
    ).stdout.decode()
    return out.strip().removeprefix("serial=").lower().lstrip("0")


def _hash_entries(payload: dict[str, object], protocol: str) -> list[dict[str, str]]:
    if protocol == "1.6":
        return payload["certificateHashData"]  # type: ignore[return-value]
    chain = payload["certificateHashDataChain"]
    assert [item["certificateType"] for item in chain] == [ROOT.value]  # type: ignore[attr-defined, union-attr]
    return [item["certificateHashData"] for item in chain]  # type: ignore[attr-defined, union-attr]


@BOTH
async def test_an_installed_manufacturer_root_is_listed_deleted_and_then_no_longer_trusted(
    gateway: RunningGateway, pki: Pki, protocol: str
) -> None:
    async with one_station(gateway, protocol) as station:
        empty = await gateway.gateway.send(STATION, GetInstalledCertificateIds((ROOT,)))
        installed = await gateway.gateway.send(STATION, InstallCertificate(ROOT, pki.root_pem))
        again = await gateway.gateway.send(STATION, InstallCertificate(ROOT, pki.root_pem))
        listed = await gateway.gateway.send(STATION, GetInstalledCertificateIds((ROOT,)))
        entries = _hash_entries(listed.payload, protocol)
        assert len(entries) == 1  # installing the same root twice keeps one copy
        entry = entries[0]
        update = SignedUpdateFirmware(
            1, "https://127.0.0.1:1/fw.bin", datetime.now(UTC), pki.ec.pem, "c2ln"
        )
        trusted = await gateway.gateway.send(STATION, update)
        hash_data = CertificateHashData(
            entry["hashAlgorithm"],
            entry["issuerNameHash"],
            entry["issuerKeyHash"],
            entry["serialNumber"],
        )
        deleted = await gateway.gateway.send(STATION, DeleteCertificate(hash_data))
        gone = await gateway.gateway.send(STATION, DeleteCertificate(hash_data))
        refused = await gateway.gateway.send(STATION, update)
    assert empty.status == "NotFound"
    assert (installed.status, again.status, listed.status) == ("Accepted",) * 3
    assert entry["hashAlgorithm"] == "SHA256"
    assert entry["serialNumber"] == _openssl_serial(pki.root_pem)
    assert entry["issuerNameHash"] == hashlib.sha256(pki.root.issuer.public_bytes()).hexdigest()
    assert trusted.status == "Accepted"
    assert (deleted.status, gone.status) == ("Accepted", "NotFound")
    assert refused.status == "InvalidCertificate"
    assert station.state.store.installed == []


@BOTH
@pytest.mark.parametrize("what", ["garbage", "a leaf", "truncated"])
async def test_what_is_not_a_ca_certificate_is_not_installed(
    gateway: RunningGateway, pki: Pki, protocol: str, what: str
) -> None:
    text = {
        "garbage": "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        "a leaf": pki.rsa.pem,
        "truncated": pki.root_pem[: len(pki.root_pem) // 2],
    }[what]
    async with one_station(gateway, protocol) as station:
        answer = await gateway.gateway.send(STATION, InstallCertificate(ROOT, text))
    assert answer.status == "Rejected"
    assert station.state.store.installed == []


async def test_a_20_root_and_a_manufacturer_root_are_told_apart(
    gateway: RunningGateway, pki: Pki
) -> None:
    async with one_station(gateway, "2.0.1"):
        await gateway.gateway.send(
            STATION, InstallCertificate(CertificateUse.CSMS_ROOT, pem(pki.other_root))
        )
        await gateway.gateway.send(STATION, InstallCertificate(ROOT, pki.root_pem))
        every = await gateway.gateway.send(STATION, GetInstalledCertificateIds())
        roots = await gateway.gateway.send(STATION, GetInstalledCertificateIds((ROOT,)))
    kinds = [item["certificateType"] for item in every.payload["certificateHashDataChain"]]
    assert kinds == ["CSMSRootCertificate", "ManufacturerRootCertificate"]
    assert len(roots.payload["certificateHashDataChain"]) == 1


def _log_statuses(gateway: RunningGateway) -> list[tuple[str, int | None, bool]]:
    return [
        (e.status, e.request_id, e.diagnostics)
        for e in gateway.sink.events
        if isinstance(e, LogUploadStatusChanged)
    ]


@BOTH
async def test_get_log_uploads_the_log_over_ftp_and_reports_with_its_request_id(
    gateway: RunningGateway, tmp_path: Path, protocol: str
) -> None:
    async with ftp_server(tmp_path / "ftp") as ftp:
        (ftp.root / "logs").mkdir()
        async with one_station(gateway, protocol):
            answer = await gateway.gateway.send(
                STATION, GetLog(17, ftp.url("logs/"), LogType.DIAGNOSTICS)
            )
            await eventually(lambda: ("Uploaded", 17, False) in _log_statuses(gateway))
        filename = answer.values["filename"]
        assert filename is not None and filename.startswith("diagnostics-1.0.0-")
        assert (ftp.root / "logs" / filename).read_text().startswith("SIM-0001 firmware 1.0.0")
    assert answer.status == "Accepted"
    assert _log_statuses(gateway) == [("Uploading", 17, False), ("Uploaded", 17, False)]


async def test_get_diagnostics_posts_the_file_over_https(gateway: RunningGateway, pki: Pki) -> None:
    async with (
        https_server(pki) as files,
        one_station(gateway, "1.6", download_ca_file=pki.tls_ca_file),
    ):
        answer = await gateway.gateway.send(STATION, GetDiagnostics(files.url + "/upload/"))
        await eventually(lambda: ("Uploaded", None, True) in _log_statuses(gateway))
    name = answer.values["fileName"]
    assert name is not None
    assert list(files.uploads) == [f"/upload/{name}"]
    assert b"SIM-0001 firmware 1.0.0" in files.uploads[f"/upload/{name}"]
    assert _log_statuses(gateway) == [("Uploading", None, True), ("Uploaded", None, True)]


async def test_a_refused_log_upload_is_retried_then_reported_as_upload_failure(
    gateway: RunningGateway, tmp_path: Path
) -> None:
    async with ftp_server(tmp_path / "ftp") as ftp, one_station(gateway, "2.0.1"):
        url = ftp.url("log.txt", password="not-the-password")
        await gateway.gateway.send(STATION, GetLog(3, url, retries=1, retry_interval_s=1))
        await eventually(lambda: ("UploadFailure", 3, False) in _log_statuses(gateway))
    assert _log_statuses(gateway) == [("Uploading", 3, False), ("UploadFailure", 3, False)]


@pytest.mark.parametrize(
    ("protocol", "trigger", "expected"),
    [
        (
            "1.6",
            Trigger(TriggerKind.DIAGNOSTICS_STATUS_NOTIFICATION),
            ("Idle", None, True),
        ),
        (
            "1.6",
            Trigger(TriggerKind.LOG_STATUS_NOTIFICATION),
            ("Idle", None, False),
        ),
        ("2.0.1", Trigger(TriggerKind.LOG_STATUS_NOTIFICATION), ("Idle", None, False)),
    ],
)
async def test_an_idle_station_answers_a_log_status_probe_with_idle(
    gateway: RunningGateway, protocol: str, trigger: Trigger, expected: tuple[object, ...]
) -> None:
    async with one_station(gateway, protocol):
        assert (await gateway.gateway.send(STATION, trigger)).status == "Accepted"
        await eventually(lambda: _log_statuses(gateway) != [])
    assert _log_statuses(gateway) == [expected]


async def test_a_second_get_log_while_one_runs_is_accepted_canceled(
    gateway: RunningGateway, tmp_path: Path
) -> None:
    async with ftp_server(tmp_path / "ftp") as ftp, one_station(gateway, "2.0.1") as station:
        station.state.log.running = True  # an upload in progress
        station.state.log.request_id = 1
        answer = await gateway.gateway.send(STATION, GetLog(2, ftp.url("log.txt")))
        await eventually(lambda: ("Uploaded", 2, False) in _log_statuses(gateway))
    assert answer.status == "AcceptedCanceled"


async def test_a_log_upload_into_a_missing_folder_fails_cleanly(
    gateway: RunningGateway, tmp_path: Path
) -> None:
    async with ftp_server(tmp_path / "ftp") as ftp, one_station(gateway, "2.0.1"):
        await gateway.gateway.send(STATION, GetLog(5, ftp.url("no/such/folder/")))
        await eventually(lambda: ("UploadFailure", 5, False) in _log_statuses(gateway))
    assert _log_statuses(gateway) == [("Uploading", 5, False), ("UploadFailure", 5, False)]
