"""Every firmware, log and root-certificate message between the gateway and an independent
station: the ``ocpp`` package's ChargePoint, which checks each frame against its own schemas,
for OCPP 1.6 (with the Security Whitepaper), 2.0.1 and 2.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call as call21
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import connect

from charging import commands as cmd
from charging.events import FirmwareStatusChanged, LogUploadStatusChanged
from ocpp_edge.errors import UnsupportedError
from tests.eventually import eventually
from tests.gateway.conftest import RunningGateway, basic

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUY2VydA==\n-----END CERTIFICATE-----\n"
HASH = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "aa" * 32,
    "issuerKeyHash": "bb" * 32,
    "serialNumber": "1f",
}


class _Recording:
    """Keeps every frame the CSMS sent, as it came."""

    frames: list[list[Any]]

    async def route_message(self, raw_msg: str) -> None:
        self.frames.append(json.loads(raw_msg))
        await super().route_message(raw_msg)  # type: ignore[misc]


class Station16(_Recording, ChargePoint16):  # type: ignore[misc]
    @on("UpdateFirmware")
    def update_firmware(self, **_: Any) -> result16.UpdateFirmware:
        return result16.UpdateFirmware()

    @on("SignedUpdateFirmware")
    def signed_update_firmware(self, **_: Any) -> result16.SignedUpdateFirmware:
        return result16.SignedUpdateFirmware(status="AcceptedCanceled")

    @on("GetLog")
    def get_log(self, **_: Any) -> result16.GetLog:
        return result16.GetLog(status="Accepted", filename="security-1.log")

    @on("GetDiagnostics")
    def get_diagnostics(self, **_: Any) -> result16.GetDiagnostics:
        return result16.GetDiagnostics(file_name="diagnostics-1.log")

    @on("ExtendedTriggerMessage")
    def extended_trigger(self, **_: Any) -> result16.ExtendedTriggerMessage:
        return result16.ExtendedTriggerMessage(status="Accepted")

    @on("TriggerMessage")
    def trigger(self, **_: Any) -> result16.TriggerMessage:
        return result16.TriggerMessage(status="Accepted")

    @on("InstallCertificate")
    def install_certificate(self, **_: Any) -> result16.InstallCertificate:
        return result16.InstallCertificate(status="Accepted")

    @on("GetInstalledCertificateIds")
    def installed_ids(self, **_: Any) -> result16.GetInstalledCertificateIds:
        return result16.GetInstalledCertificateIds(status="Accepted", certificate_hash_data=[HASH])


class _Station2(_Recording):
    @on("UpdateFirmware")
    def update_firmware(self, **_: Any) -> result201.UpdateFirmware:
        return result201.UpdateFirmware(status="InvalidCertificate")

    @on("GetLog")
    def get_log(self, **_: Any) -> result201.GetLog:
        return result201.GetLog(status="Accepted", filename="diagnostics-1.log")

    @on("TriggerMessage")
    def trigger(self, **_: Any) -> result201.TriggerMessage:
        return result201.TriggerMessage(status="Accepted")

    @on("InstallCertificate")
    def install_certificate(self, **_: Any) -> result201.InstallCertificate:
        return result201.InstallCertificate(status="Rejected")

    @on("GetInstalledCertificateIds")
    def installed_ids(self, **_: Any) -> result201.GetInstalledCertificateIds:
        chain = [{"certificateType": "ManufacturerRootCertificate", "certificateHashData": HASH}]
        return result201.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data_chain=chain
        )


class Station201(_Station2, ChargePoint201):  # type: ignore[misc]
    pass


class Station21(_Station2, ChargePoint21):  # type: ignore[misc]
    pass


STATIONS = {"1.6": Station16, "2.0.1": Station201, "2.1": Station21}


@contextlib.asynccontextmanager
async def station(running: RunningGateway, version: str) -> AsyncIterator[Any]:
    async with connect(
        f"{running.url}/ocpp/CP-1",
        subprotocols=[f"ocpp{version}"],  # type: ignore[list-item]
        additional_headers=basic("CP-1"),
    ) as ws:
        cp = STATIONS[version]("CP-1", ws)
        cp.frames = []
        task = asyncio.create_task(cp.start())
        await eventually(lambda: "CP-1" in running.gateway.sessions)
        try:
            yield cp
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


SIGNED = cmd.SignedUpdateFirmware(
    42,
    "https://fw.example/cl22-2.0.0.bin",
    AT,
    PEM,
    "c2lnbmF0dXJl",
    install_at=LATER,
    retries=3,
    retry_interval_s=120,
)
V16_CALLS: list[tuple[cmd.Command, str, dict[str, Any], tuple[str, dict[str, str | None]]]] = [
    (
        cmd.UpdateFirmware("ftp://u:p@fw.example:2121/cl.bin", AT, retries=2, retry_interval_s=60),
        "UpdateFirmware",
        {
            "location": "ftp://u:p@fw.example:2121/cl.bin",
            "retrieveDate": "2026-12-01T12:00:00Z",
            "retries": 2,
            "retryInterval": 60,
        },
        ("Accepted", {}),
    ),
    (
        SIGNED,
        "SignedUpdateFirmware",
        {
            "requestId": 42,
            "retries": 3,
            "retryInterval": 120,
            "firmware": {
                "location": "https://fw.example/cl22-2.0.0.bin",
                "retrieveDateTime": "2026-12-01T12:00:00Z",
                "installDateTime": "2026-12-01T13:30:00Z",
                "signingCertificate": PEM,
                "signature": "c2lnbmF0dXJl",
            },
        },
        ("AcceptedCanceled", {}),
    ),
    (
        cmd.GetLog(7, "ftp://u:p@logs.example/", cmd.LogType.SECURITY, oldest=AT, latest=LATER),
        "GetLog",
        {
            "logType": "SecurityLog",
            "requestId": 7,
            "log": {
                "remoteLocation": "ftp://u:p@logs.example/",
                "oldestTimestamp": "2026-12-01T12:00:00Z",
                "latestTimestamp": "2026-12-01T13:30:00Z",
            },
        },
        ("Accepted", {"filename": "security-1.log"}),
    ),
    (
        cmd.GetDiagnostics("https://logs.example/up/", start=AT, retries=1, retry_interval_s=30),
        "GetDiagnostics",
        {
            "location": "https://logs.example/up/",
            "retries": 1,
            "retryInterval": 30,
            "startTime": "2026-12-01T12:00:00Z",
        },
        ("Accepted", {"fileName": "diagnostics-1.log"}),
    ),
    (
        cmd.Trigger(cmd.TriggerKind.FIRMWARE_STATUS_NOTIFICATION, extended=True),
        "ExtendedTriggerMessage",
        {"requestedMessage": "FirmwareStatusNotification"},
        ("Accepted", {}),
    ),
    (
        cmd.Trigger(cmd.TriggerKind.FIRMWARE_STATUS_NOTIFICATION),
        "TriggerMessage",
        {"requestedMessage": "FirmwareStatusNotification"},
        ("Accepted", {}),
    ),
    (
        cmd.Trigger(cmd.TriggerKind.DIAGNOSTICS_STATUS_NOTIFICATION),
        "TriggerMessage",
        {"requestedMessage": "DiagnosticsStatusNotification"},
        ("Accepted", {}),
    ),
    (
        cmd.Trigger(cmd.TriggerKind.LOG_STATUS_NOTIFICATION, extended=True),
        "ExtendedTriggerMessage",
        {"requestedMessage": "LogStatusNotification"},
        ("Accepted", {}),
    ),
    (
        cmd.InstallCertificate(cmd.CertificateUse.MANUFACTURER_ROOT, PEM),
        "InstallCertificate",
        {"certificateType": "ManufacturerRootCertificate", "certificate": PEM},
        ("Accepted", {}),
    ),
    (
        cmd.GetInstalledCertificateIds((cmd.CertificateUse.MANUFACTURER_ROOT,)),
        "GetInstalledCertificateIds",
        {"certificateType": "ManufacturerRootCertificate"},
        ("Accepted", {}),
    ),
]

V2_CALLS: list[tuple[cmd.Command, str, dict[str, Any], tuple[str, dict[str, str | None]]]] = [
    (
        SIGNED,
        "UpdateFirmware",
        {
            "requestId": 42,
            "retries": 3,
            "retryInterval": 120,
            "firmware": {
                "location": "https://fw.example/cl22-2.0.0.bin",
                "retrieveDateTime": "2026-12-01T12:00:00Z",
                "installDateTime": "2026-12-01T13:30:00Z",
                "signingCertificate": PEM,
                "signature": "c2lnbmF0dXJl",
            },
        },
        ("InvalidCertificate", {}),
    ),
    (
        cmd.UpdateFirmware("https://fw.example/cl.bin", AT, 9, retries=0, install_at=LATER),
        "UpdateFirmware",
        {
            "requestId": 9,
            "retries": 0,
            "firmware": {
                "location": "https://fw.example/cl.bin",
                "retrieveDateTime": "2026-12-01T12:00:00Z",
                "installDateTime": "2026-12-01T13:30:00Z",
            },
        },
        ("InvalidCertificate", {}),
    ),
    (
        cmd.GetLog(8, "https://logs.example/up", retries=2, retry_interval_s=10),
        "GetLog",
        {
            "logType": "DiagnosticsLog",
            "requestId": 8,
            "retries": 2,
            "retryInterval": 10,
            "log": {"remoteLocation": "https://logs.example/up"},
        },
        ("Accepted", {"filename": "diagnostics-1.log"}),
    ),
    (
        cmd.Trigger(cmd.TriggerKind.FIRMWARE_STATUS_NOTIFICATION),
        "TriggerMessage",
        {"requestedMessage": "FirmwareStatusNotification"},
        ("Accepted", {}),
    ),
    (
        cmd.Trigger(cmd.TriggerKind.LOG_STATUS_NOTIFICATION, extended=True),  # one kind in 2.x
        "TriggerMessage",
        {"requestedMessage": "LogStatusNotification"},
        ("Accepted", {}),
    ),
    (
        cmd.InstallCertificate(cmd.CertificateUse.MANUFACTURER_ROOT, PEM),
        "InstallCertificate",
        {"certificateType": "ManufacturerRootCertificate", "certificate": PEM},
        ("Rejected", {}),
    ),
    (
        cmd.GetInstalledCertificateIds((cmd.CertificateUse.MANUFACTURER_ROOT,)),
        "GetInstalledCertificateIds",
        {"certificateType": ["ManufacturerRootCertificate"]},
        ("Accepted", {}),
    ),
]

CASES = [("1.6", *case) for case in V16_CALLS] + [
    (version, *case) for version in ("2.0.1", "2.1") for case in V2_CALLS
]


@pytest.mark.parametrize(
    ("version", "command", "action", "payload", "answer"),
    CASES,
    ids=[f"{case[0]}-{case[2]}-{n}" for n, case in enumerate(CASES)],
)
async def test_the_station_receives_the_exact_call_and_its_answer_comes_back(
    running: RunningGateway,
    version: str,
    command: cmd.Command,
    action: str,
    payload: dict[str, Any],
    answer: tuple[str, dict[str, str | None]],
) -> None:
    async with station(running, version) as cp:
        result = await running.gateway.send("CP-1", command)
    [frame] = cp.frames
    assert frame[0] == 2 and frame[2:] == [action, payload]
    assert (result.status, result.values) == answer


@pytest.mark.parametrize(
    ("version", "command", "message"),
    [
        (
            "1.6",
            cmd.UpdateFirmware("https://fw/x.bin", AT, install_at=LATER),
            "OCPP 1.6 cannot express an install time without SignedUpdateFirmware",
        ),
        (
            "1.6",
            cmd.Trigger(cmd.TriggerKind.DIAGNOSTICS_STATUS_NOTIFICATION, extended=True),
            "OCPP 1.6 cannot express an extended trigger of DiagnosticsStatusNotification",
        ),
        (
            "2.0.1",
            cmd.GetDiagnostics("https://logs/x"),
            "OCPP 2.0.1 cannot express GetDiagnostics (use GetLog)",
        ),
    ],
)
async def test_what_a_version_cannot_say_is_refused_before_anything_is_sent(
    running: RunningGateway, version: str, command: cmd.Command, message: str
) -> None:
    async with station(running, version) as cp:
        with pytest.raises(UnsupportedError) as refused:
            await running.gateway.send("CP-1", command)
    assert str(refused.value) == message
    assert cp.frames == []


async def test_a_location_over_512_characters_is_refused_before_anything_is_sent(
    running: RunningGateway,
) -> None:
    long = cmd.SignedUpdateFirmware(1, "https://fw/" + "x" * 510, AT, PEM, "c2ln")
    async with station(running, "2.0.1") as cp:
        with pytest.raises(Exception, match="location"):
            await running.gateway.send("CP-1", long)
    assert cp.frames == []


def _reported(running: RunningGateway, kind: type) -> list[Any]:
    return [e for e in running.sink.events if isinstance(e, kind)]


async def test_16_firmware_and_log_notifications_become_events_with_their_request_ids(
    running: RunningGateway,
) -> None:
    async with station(running, "1.6") as cp:
        plain = await cp.call(call16.FirmwareStatusNotification(status="Downloading"))
        signed = await cp.call(
            call16.SignedFirmwareStatusNotification(status="InvalidSignature", request_id=42)
        )
        diagnostics = await cp.call(call16.DiagnosticsStatusNotification(status="Uploaded"))
        log = await cp.call(call16.LogStatusNotification(status="UploadFailure", request_id=7))
    assert all(r is not None for r in (plain, signed, diagnostics, log))
    assert _reported(running, FirmwareStatusChanged) == [
        FirmwareStatusChanged("CP-1", "Downloading", None, signed=False),
        FirmwareStatusChanged("CP-1", "InvalidSignature", 42, signed=True),
    ]
    assert _reported(running, LogUploadStatusChanged) == [
        LogUploadStatusChanged("CP-1", "Uploaded", None, diagnostics=True),
        LogUploadStatusChanged("CP-1", "UploadFailure", 7),
    ]


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_2x_firmware_and_log_notifications_become_events_with_their_request_ids(
    running: RunningGateway, version: str
) -> None:
    module = call201 if version == "2.0.1" else call21
    async with station(running, version) as cp:
        await cp.call(module.FirmwareStatusNotification(status="InstallRebooting", request_id=42))
        await cp.call(module.FirmwareStatusNotification(status="Idle"))
        await cp.call(module.LogStatusNotification(status="Uploading", request_id=8))
    assert _reported(running, FirmwareStatusChanged) == [
        FirmwareStatusChanged("CP-1", "InstallRebooting", 42, signed=True),
        FirmwareStatusChanged("CP-1", "Idle", None, signed=True),
    ]
    assert _reported(running, LogUploadStatusChanged) == [
        LogUploadStatusChanged("CP-1", "Uploading", 8)
    ]


@pytest.mark.parametrize(
    ("version", "action", "payload"),
    [
        ("1.6", "FirmwareStatusNotification", {"status": "SignatureVerified"}),  # signed-only
        ("1.6", "SignedFirmwareStatusNotification", {"status": "Installed", "requestId": 1.5}),
        ("2.0.1", "FirmwareStatusNotification", {"status": "Rebooting", "requestId": 1}),
        ("2.0.1", "FirmwareStatusNotification", {"status": "Installed", "requestId": "1"}),
    ],
)
async def test_a_malformed_firmware_notification_gets_a_callerror_and_no_event(
    running: RunningGateway, version: str, action: str, payload: dict[str, Any]
) -> None:
    async with connect(
        f"{running.url}/ocpp/CP-2",
        subprotocols=[f"ocpp{version}"],  # type: ignore[list-item]
        additional_headers=basic("CP-2"),
    ) as ws:
        await ws.send(json.dumps([2, "f-1", action, payload]))
        answer = json.loads(await ws.recv())
    assert answer[:2] == [4, "f-1"]
    assert answer[2] in (
        "OccurrenceConstraintViolation",
        "OccurenceConstraintViolation",
        "PropertyConstraintViolation",
        "TypeConstraintViolation",
    )
    assert _reported(running, FirmwareStatusChanged) == []
