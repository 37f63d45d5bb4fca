"""A simulated station's memory: configuration keys / variables, local list, certificates.

OCPP 1.6 keys are written as the spec names them (section 9.1, ``HeartbeatInterval``); OCPP 2.0.1
variables as ``Component.Variable`` (Part 2 appendix, ``OCPPCommCtrlr.HeartbeatInterval``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.certificates import CertificateStore
from simulator.firmware import FirmwareState
from simulator.messages import FIRMWARE
from simulator.profiles import ProfileStore, Transaction


@dataclass(slots=True)
class Setting:
    value: str
    readonly: bool = False
    write_only: bool = False


def _v16_settings(evses: int) -> dict[str, Setting]:
    return {
        "HeartbeatInterval": Setting("300"),
        "MeterValueSampleInterval": Setting("60"),
        "MeterValuesSampledData": Setting(
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC"
        ),
        "AuthorizeRemoteTxRequests": Setting("false"),
        "ConnectionTimeOut": Setting("60"),
        "LocalAuthListEnabled": Setting("true"),
        "LocalAuthListMaxLength": Setting("1000", readonly=True),
        "SendLocalListMaxLength": Setting("100", readonly=True),
        "NumberOfConnectors": Setting(str(evses), readonly=True),
        "SupportedFeatureProfiles": Setting(
            "Core,FirmwareManagement,LocalAuthListManagement,RemoteTrigger,SmartCharging",
            readonly=True,
        ),
        "SecurityProfile": Setting("1"),
        "AuthorizationKey": Setting("", write_only=True),
    }


def _v201_settings(evses: int) -> dict[str, Setting]:
    return {
        "OCPPCommCtrlr.HeartbeatInterval": Setting("300"),
        "SampledDataCtrlr.TxUpdatedInterval": Setting("60"),
        "AuthCtrlr.AuthorizeRemoteStart": Setting("false"),
        "LocalAuthListCtrlr.Enabled": Setting("true"),
        "LocalAuthListCtrlr.Entries": Setting("0", readonly=True),
        "DeviceDataCtrlr.ItemsPerMessage/GetVariables": Setting("50", readonly=True),
        "EVSE.Count": Setting(str(evses), readonly=True),
        "SecurityCtrlr.SecurityProfile": Setting("1"),
        "SecurityCtrlr.BasicAuthPassword": Setting("", write_only=True),
    }


@dataclass(slots=True)
class LogState:
    """The log upload in progress (GetLog ``request_id``, or None for 1.6 GetDiagnostics)."""

    running: bool = False
    request_id: int | None = None
    diagnostics: bool = False
    status: str = "Idle"


RESERVED = "(starting)"  # an EVSE a remote start has taken, before its transaction has an id

REMOTE_START_KEY = {
    "1.6": "AuthorizeRemoteTxRequests",
    "2.0.1": "AuthCtrlr.AuthorizeRemoteStart",
    "2.1": "AuthCtrlr.AuthorizeRemoteStart",
}
HEARTBEAT_KEY = {
    "1.6": "HeartbeatInterval",
    "2.0.1": "OCPPCommCtrlr.HeartbeatInterval",
    "2.1": "OCPPCommCtrlr.HeartbeatInterval",
}


@dataclass(slots=True)
class StationState:
    """What survives between commands: configuration, local list, certificates, sessions,
    firmware. ``v16_firmware`` is what a 1.6 station updates with: ``whitepaper``
    (SignedUpdateFirmware; a plain UpdateFirmware gets CALLERROR NotSupported) or ``plain``
    (UpdateFirmware; SignedUpdateFirmware gets CALLERROR NotImplemented)."""

    version: str
    evses: int = 1
    settings: dict[str, Setting] = field(default_factory=dict)
    local_list_version: int = 0
    local_list: dict[str, dict[str, Any]] = field(default_factory=dict)
    certificates: list[str] = field(default_factory=list)
    profiles: ProfileStore = field(default_factory=lambda: ProfileStore("1.6"))
    started: dict[int, datetime] = field(default_factory=dict)  # evse id -> transaction start
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    operative: dict[int, bool] = field(default_factory=dict)
    sessions: dict[int, str] = field(default_factory=dict)  # evse id -> transaction ref
    store: CertificateStore = field(default_factory=CertificateStore)
    firmware: FirmwareState = field(default_factory=lambda: FirmwareState(FIRMWARE))
    v16_firmware: str = "whitepaper"
    log: LogState = field(default_factory=lambda: LogState())

    def __post_init__(self) -> None:
        if not self.settings:
            make = _v16_settings if self.version == "1.6" else _v201_settings
            self.settings = make(self.evses)
        for evse in range(0, self.evses + 1):
            self.operative.setdefault(evse, True)
        self.profiles.version, self.profiles.evses = self.version, self.evses

    def transaction(self, evse: int) -> Transaction | None:
        """The transaction on ``evse`` for its charging profiles (ref None while starting)."""
        ref = self.sessions.get(evse)
        if ref is None:
            return None
        started = self.started.get(evse)
        return Transaction(ref if started is not None else None, started)

    def transactions(self) -> dict[int, Transaction]:
        return {evse: t for evse in self.sessions if (t := self.transaction(evse)) is not None}

    @property
    def heartbeat_interval(self) -> int:
        return int(self.settings[HEARTBEAT_KEY[self.version]].value)

    def set_heartbeat_interval(self, seconds: int) -> None:
        self.settings[HEARTBEAT_KEY[self.version]].value = str(seconds)

    @property
    def authorize_remote_starts(self) -> bool:
        """1.6 AuthorizeRemoteTxRequests / 2.0.1 AuthCtrlr.AuthorizeRemoteStart."""
        key = (
            "AuthorizeRemoteTxRequests"
            if self.version == "1.6"
            else "AuthCtrlr.AuthorizeRemoteStart"
        )
        return self.settings[key].value == "true"

    def free_evse(self, wanted: int | None) -> int | None:
        """``wanted`` if it is idle and operative, else the first such EVSE, else None."""
        candidates = [wanted] if wanted else range(1, self.evses + 1)
        for evse in candidates:
            if 1 <= evse <= self.evses and evse not in self.sessions and self.operative[evse]:
                return evse
        return None

    def evse_of(self, transaction_ref: str) -> int | None:
        return next((e for e, ref in self.sessions.items() if ref == transaction_ref), None)
