"""How a simulated station answers maintenance CALLs: firmware updates, log uploads and root
certificates (1.6 6.55 / 6.33 and Security Whitepaper 4.2-4.4; 2.0.1 L01, N01, M03-M05).

Pure functions from a CALL and the station's state to a reply and an effect, like
``simulator.answers`` (which merges these handlers into its tables). A request the station
refuses at the protocol level raises ``CallRefused`` (a whitepaper station's answer to a plain
1.6 UpdateFirmware is CALLERROR NotSupported).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from simulator.firmware import FirmwareRequest, RequestKind, read_request, refusal

if TYPE_CHECKING:
    from simulator.state import StationState


class CallRefused(Exception):
    """Answer the CALL with this CALLERROR code instead of a CALLRESULT."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True, slots=True)
class StartFirmwareUpdate:
    """Carry out ``request``, replacing any update still running."""

    request: FirmwareRequest


@dataclass(frozen=True, slots=True)
class LogRequest:
    """GetLog (``request_id`` set) or 1.6 GetDiagnostics (``request_id`` None)."""

    location: str
    filename: str
    request_id: int | None = None
    retries: int | None = None
    retry_interval: int | None = None


@dataclass(frozen=True, slots=True)
class StartLogUpload:
    request: LogRequest


@dataclass(frozen=True, slots=True)
class RaiseSecurityEvent:
    """Send SecurityEventNotification of ``kind`` (Whitepaper / 2.0.1 security events)."""

    kind: str


MaintenanceEffect = StartFirmwareUpdate | StartLogUpload | RaiseSecurityEvent
Reply = tuple[dict[str, Any], MaintenanceEffect | None]
Handler = Callable[[dict[str, Any], "StationState"], Reply]


def _now() -> datetime:
    return datetime.now(UTC)


def _update(action: str, p: dict[str, Any], s: StationState) -> Reply:
    request = read_request(action, p)
    plain = request.kind is RequestKind.PLAIN
    if plain and s.v16_firmware == "whitepaper":
        raise CallRefused("NotSupported", "this station updates with SignedUpdateFirmware only")
    if request.kind is RequestKind.SIGNED and s.v16_firmware == "plain":
        raise NotImplementedError(action)
    refused = refusal(request, s.store, s.firmware, _now())
    if refused is not None:
        if plain:  # 1.6 UpdateFirmware.conf has no status: the station cannot say no
            return {}, None
        if refused == "InvalidCertificate":  # 2.0.1 L01.FR.02, Whitepaper 4.2.1
            return {"status": refused}, RaiseSecurityEvent("InvalidFirmwareSigningCertificate")
        return {"status": refused}, None
    replaced = s.firmware.request is not None
    s.firmware.request = request
    s.firmware.status = "Idle"
    reply = {} if plain else {"status": "AcceptedCanceled" if replaced else "Accepted"}
    return reply, StartFirmwareUpdate(request)


def _filename(s: StationState, kind: str) -> str:
    return f"{kind}-{s.firmware.version}-{_now().strftime('%Y%m%dT%H%M%SZ')}.log"


def _get_log(p: dict[str, Any], s: StationState) -> Reply:
    replaced = s.log.running
    name = _filename(s, "security" if p["logType"] == "SecurityLog" else "diagnostics")
    request = LogRequest(
        p["log"]["remoteLocation"],
        name,
        p["requestId"],
        p.get("retries"),
        p.get("retryInterval"),
    )
    s.log.running, s.log.request_id, s.log.diagnostics = True, p["requestId"], False
    reply = {"status": "AcceptedCanceled" if replaced else "Accepted", "filename": name}
    return reply, StartLogUpload(request)


def _get_diagnostics(p: dict[str, Any], s: StationState) -> Reply:
    name = _filename(s, "diagnostics")
    request = LogRequest(p["location"], name, None, p.get("retries"), p.get("retryInterval"))
    s.log.running, s.log.request_id, s.log.diagnostics = True, None, True
    return {"fileName": name}, StartLogUpload(request)


def _install(p: dict[str, Any], s: StationState) -> Reply:
    return {"status": s.store.install(p["certificateType"], p["certificate"], _now())}, None


def _v16_installed_ids(p: dict[str, Any], s: StationState) -> Reply:
    found = s.store.of_use({p["certificateType"]})
    if not found:
        return {"status": "NotFound"}, None
    return {"status": "Accepted", "certificateHashData": [c.hash_data for c in found]}, None


def _v201_installed_ids(p: dict[str, Any], s: StationState) -> Reply:
    uses = p.get("certificateType")
    found = s.store.of_use(set(uses) if uses else None)
    if not found:
        return {"status": "NotFound"}, None
    chain = [{"certificateType": c.use, "certificateHashData": c.hash_data} for c in found]
    return {"status": "Accepted", "certificateHashDataChain": chain}, None


def _delete(p: dict[str, Any], s: StationState) -> Reply:
    return {"status": s.store.delete(p["certificateHashData"])}, None


_SHARED: dict[str, Handler] = {
    "InstallCertificate": _install,
    "DeleteCertificate": _delete,
    "GetLog": _get_log,
}

V16: dict[str, Handler] = {
    **_SHARED,
    "UpdateFirmware": lambda p, s: _update("UpdateFirmware", p, s),
    "SignedUpdateFirmware": lambda p, s: _update("SignedUpdateFirmware", p, s),
    "GetDiagnostics": _get_diagnostics,
    "GetInstalledCertificateIds": _v16_installed_ids,
}

V201: dict[str, Handler] = {
    **_SHARED,
    "UpdateFirmware": lambda p, s: _update("UpdateFirmware", p, s),
    "GetInstalledCertificateIds": _v201_installed_ids,
}
