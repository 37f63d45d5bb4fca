"""How a simulated station updates its firmware (OCPP 1.6 6.55 / Whitepaper 4.2, 2.0.1 L01).

A request (1.6 UpdateFirmware, 1.6 SignedUpdateFirmware, 2.x UpdateFirmware) is read into a
``FirmwareRequest``; ``FirmwareUpdate.run`` then waits for retrieveDateTime, downloads with
``retries`` and ``retryInterval``, checks the signature against the installed manufacturer root,
waits for installDateTime and for the station to be idle, installs, reboots, and reports each
step. The statuses per kind of request:

- 1.6 plain: Downloading, Downloaded, Installing, (reboot), Installed - or DownloadFailed,
  InstallationFailed; FirmwareStatusNotification without requestId.
- 1.6 signed (SignedFirmwareStatusNotification) and 2.x (FirmwareStatusNotification), with
  requestId: DownloadScheduled, Downloading, Downloaded, SignatureVerified | InvalidSignature,
  InstallScheduled, Installing, InstallRebooting, (reboot and BootNotification, 2.x reason
  FirmwareUpdate), Installed.

A simulated image names its version in its first line (``build_image``); an image without one
is refused with InstallVerificationFailed (InstallationFailed in 1.6 plain).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from simulator.certificates import CertificateStore
from simulator.signing import CertificateRefused, signature_matches, signing_certificate
from simulator.transfers import Download, TransferError

IMAGE_MAGIC = b"CHARGELINE-SIMULATED-FIRMWARE version="
DEFAULT_RETRIES = 1
DEFAULT_RETRY_INTERVAL = 5.0
_VERSION = re.compile(rb"[0-9A-Za-z.+_-]{1,50}")


class FirmwareFault(StrEnum):
    """What a faulty station does wrong (``FirmwareFaults``)."""

    DOWNLOAD = "download"  # every download attempt fails
    SIGNATURE = "signature"  # reports InvalidSignature whatever the signature
    INSTALL = "install"  # InstallationFailed after Installing
    OLD_VERSION = "old-version"  # reports Installed but boots the old version again
    SILENT = "silent"  # sends no firmware status notification unless triggered
    STALL = "stall"  # hangs once Downloading, until a new request replaces it


def build_image(version: str, size: int = 4096) -> bytes:
    """A simulated firmware image of ``size`` bytes (at least its header) for ``version``."""
    if not _VERSION.fullmatch(version.encode()):
        raise ValueError(f"firmware version {version!r} is not a simple version string")
    header = IMAGE_MAGIC + version.encode() + b"\n"
    body = hashlib.shake_256(header).digest(max(0, size - len(header)))
    return header + body


def image_version(head: bytes) -> str | None:
    """The version a simulated image names in its first line, or None."""
    if not head.startswith(IMAGE_MAGIC):
        return None
    line = head[len(IMAGE_MAGIC) :].split(b"\n", 1)[0]
    return line.decode() if _VERSION.fullmatch(line) else None


def faulty_stations(station_ids: Iterable[str], share: float, fault: FirmwareFault) -> set[str]:
    """Exactly ``round(share x N)`` of the stations, chosen by a hash of id and fault: the same
    stations every run, a different set for each fault."""
    ids = sorted(set(station_ids))
    count = round(max(0.0, min(1.0, share)) * len(ids))

    def rank(station_id: str) -> bytes:
        return hashlib.sha256(f"{fault.value}:{station_id}".encode()).digest()

    return set(sorted(ids, key=rank)[:count])


class RequestKind(StrEnum):
    PLAIN = "plain"  # 1.6 UpdateFirmware
    SIGNED = "signed"  # 1.6 SignedUpdateFirmware
    V2 = "v2"  # 2.0.1 / 2.1 UpdateFirmware


@dataclass(frozen=True, slots=True)
class FirmwareRequest:
    kind: RequestKind
    location: str
    retrieve_at: datetime
    request_id: int | None = None
    install_at: datetime | None = None
    retries: int | None = None
    retry_interval: int | None = None
    signing_certificate: str | None = None
    signature: str | None = None


def _time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def read_request(action: str, payload: dict[str, Any]) -> FirmwareRequest:
    """A schema-valid UpdateFirmware / SignedUpdateFirmware payload as a request."""
    if action == "UpdateFirmware" and "firmware" not in payload:  # 1.6 plain
        return FirmwareRequest(
            RequestKind.PLAIN,
            payload["location"],
            _time(payload["retrieveDate"]),
            retries=payload.get("retries"),
            retry_interval=payload.get("retryInterval"),
        )
    firmware = payload["firmware"]
    install = firmware.get("installDateTime")
    return FirmwareRequest(
        RequestKind.SIGNED if action == "SignedUpdateFirmware" else RequestKind.V2,
        firmware["location"],
        _time(firmware["retrieveDateTime"]),
        request_id=payload["requestId"],
        install_at=None if install is None else _time(install),
        retries=payload.get("retries"),
        retry_interval=payload.get("retryInterval"),
        signing_certificate=firmware.get("signingCertificate"),
        signature=firmware.get("signature"),
    )


@dataclass(slots=True)
class FirmwareState:
    """The station's firmware: the running version and the update in progress, if any."""

    version: str
    request: FirmwareRequest | None = None
    status: str = "Idle"
    installing: bool = False  # past the point where a new request can replace it
    history: list[str] = field(default_factory=list)  # what the log upload tells

    def status_message(self, *, signed: bool) -> tuple[str, dict[str, Any]]:
        """The (Signed)FirmwareStatusNotification of the current status (for a trigger)."""
        return status_message(self.request, "Idle" if self.request is None else self.status, signed)


def status_message(
    request: FirmwareRequest | None, status: str, signed: bool
) -> tuple[str, dict[str, Any]]:
    """The notification of ``status``: 1.6 plain without requestId, 1.6 signed as
    SignedFirmwareStatusNotification, 2.x with requestId unless Idle (L01.FR.20)."""
    payload: dict[str, Any] = {"status": status}
    kind = request.kind if request is not None else None
    if request is not None and request.request_id is not None and kind is not RequestKind.PLAIN:
        payload["requestId"] = request.request_id
    if signed or kind is RequestKind.SIGNED:
        return "SignedFirmwareStatusNotification", payload
    return "FirmwareStatusNotification", payload


def refusal(
    request: FirmwareRequest, store: CertificateStore, state: FirmwareState, now: datetime
) -> str | None:
    """The answer that refuses ``request`` (Rejected while installing, InvalidCertificate for
    a signing certificate no installed root issued), or None when it is accepted."""
    if state.installing:
        return "Rejected"
    if request.signing_certificate is not None:
        try:
            signing_certificate(request.signing_certificate, store.roots(), now)
        except CertificateRefused:
            return "InvalidCertificate"
    return None


class UpdateHost(Protocol):
    """What the update needs of its station."""

    async def notify(self, action: str, payload: dict[str, Any]) -> None: ...

    async def sleep(self, simulated_seconds: float) -> None: ...

    async def until_idle(self) -> None: ...

    async def reboot(self) -> None:
        """Restart with the firmware in ``FirmwareState.version``; returns once booted."""
        ...

    async def security_event(self, kind: str) -> None: ...


Downloader = Callable[[str], Awaitable[Download]]


@dataclass(slots=True)
class FirmwareUpdate:
    """One request carried out; ``run`` is cancelled when a new request replaces it."""

    request: FirmwareRequest
    state: FirmwareState
    store: CertificateStore
    host: UpdateHost
    download: Downloader
    faults: frozenset[FirmwareFault] = frozenset()
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            if self.state.request is self.request:
                self.state.request = None
                self.state.installing = False

    async def report(self, status: str) -> None:
        self.state.status = status
        self.state.history.append(f"{self.clock().isoformat()} {status}")
        if FirmwareFault.SILENT not in self.faults:
            await self.host.notify(*status_message(self.request, status, signed=False))

    @property
    def _plain(self) -> bool:
        return self.request.kind is RequestKind.PLAIN

    async def _until(self, moment: datetime | None, status: str) -> None:
        if moment is None or moment <= self.clock():
            return
        if not self._plain:
            await self.report(status)
        await asyncio.sleep((moment - self.clock()).total_seconds())

    async def _run(self) -> None:
        await self._until(self.request.retrieve_at, "DownloadScheduled")
        got = await self._download()
        if got is None:
            await self.report("DownloadFailed")
            return
        await self.report("Downloaded")
        if not await self._signature_ok(got):
            await self.report("InvalidSignature")
            await self.host.security_event("InvalidFirmwareSignature")
            return
        version = image_version(got.head)
        if version is None:
            await self.report("InstallationFailed" if self._plain else "InstallVerificationFailed")
            return
        await self._until(self.request.install_at, "InstallScheduled")
        await self.host.until_idle()
        self.state.installing = True
        await self.report("Installing")
        if FirmwareFault.INSTALL in self.faults:
            await self.report("InstallationFailed")
            return
        if not self._plain:
            await self.report("InstallRebooting")
        if FirmwareFault.OLD_VERSION not in self.faults:
            self.state.version = version
        await self.host.reboot()
        await self.report("Installed")

    async def _download(self) -> Download | None:
        attempts = 1 + (DEFAULT_RETRIES if self.request.retries is None else self.request.retries)
        interval = self.request.retry_interval
        for attempt in range(attempts):
            await self.report("Downloading")
            if FirmwareFault.STALL in self.faults:
                await asyncio.Event().wait()
            if FirmwareFault.DOWNLOAD not in self.faults:
                try:
                    return await self.download(self.request.location)
                except TransferError as exc:
                    self.state.history.append(f"download failed: {exc}")
            if attempt + 1 < attempts:
                await self.host.sleep(DEFAULT_RETRY_INTERVAL if interval is None else interval)
        return None

    async def _signature_ok(self, got: Download) -> bool:
        request = self.request
        if request.signature is None or request.signing_certificate is None:
            return True  # an unsigned update: 1.6 plain, or 2.x without a signature
        try:
            certificate = signing_certificate(
                request.signing_certificate, self.store.roots(), self.clock()
            )
        except CertificateRefused:
            return False
        if FirmwareFault.SIGNATURE in self.faults:
            return False
        if not signature_matches(got.digest, request.signature, certificate):
            return False
        await self.report("SignatureVerified")
        return True
