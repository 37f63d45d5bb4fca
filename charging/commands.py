"""What the platform asks of a station, and what came back.

The adapters turn each command into the OCPP call of the station's version and the answer into a
``CommandResult``; a command a version cannot express is refused by the adapter, never silently
approximated. EVSE numbering follows ``charging.events`` (1.6 connector *n* = EVSE *n*).

Configuration keys: an OCPP 1.6 key is used as it is (``HeartbeatInterval``); an OCPP 2.x
variable is written ``Component.Variable`` or ``Component/instance.Variable``
(``OCPPCommCtrlr.HeartbeatInterval``, ``SecurityCtrlr/main.BasicAuthPassword``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from charging.events import CertificateSigningUse, IdToken


class ResetMode(StrEnum):
    """IMMEDIATE is 1.6 Hard / 2.0.1 Immediate; ON_IDLE is 1.6 Soft / 2.0.1 OnIdle."""

    IMMEDIATE = "Immediate"
    ON_IDLE = "OnIdle"


class TriggerKind(StrEnum):
    """Messages the platform may ask a station to send (1.6 MessageTrigger, 2.0.1
    MessageTriggerEnumType). Certificate signing has its own command."""

    BOOT_NOTIFICATION = "BootNotification"
    HEARTBEAT = "Heartbeat"
    STATUS_NOTIFICATION = "StatusNotification"
    METER_VALUES = "MeterValues"
    FIRMWARE_STATUS_NOTIFICATION = "FirmwareStatusNotification"
    DIAGNOSTICS_STATUS_NOTIFICATION = "DiagnosticsStatusNotification"
    LOG_STATUS_NOTIFICATION = "LogStatusNotification"
    TRANSACTION_EVENT = "TransactionEvent"


class CertificateUse(StrEnum):
    """Root certificate kinds (1.6 CertificateUse, 2.0.1 InstallCertificateUseEnumType)."""

    CSMS_ROOT = "CSMSRootCertificate"
    MANUFACTURER_ROOT = "ManufacturerRootCertificate"
    V2G_ROOT = "V2GRootCertificate"
    MO_ROOT = "MORootCertificate"


class ChargingProfilePurpose(StrEnum):
    """2.0.1 names; STATION_MAX is 1.6 ChargePointMaxProfile."""

    STATION_MAX = "ChargingStationMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class ChargingProfileKind(StrEnum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class LogType(StrEnum):
    """1.6 Security Whitepaper / 2.0.1 LogEnumType."""

    DIAGNOSTICS = "DiagnosticsLog"
    SECURITY = "SecurityLog"


class UpdateType(StrEnum):
    FULL = "Full"
    DIFFERENTIAL = "Differential"


class OCPPVersion(StrEnum):
    """The protocol a network connection profile speaks (2.0.1 OCPPVersionEnumType; OCPP20
    stands for 2.0 and 2.0.1)."""

    OCPP12 = "OCPP12"
    OCPP15 = "OCPP15"
    OCPP16 = "OCPP16"
    OCPP20 = "OCPP20"


class OCPPInterface(StrEnum):
    """The network interface a connection profile uses (2.0.1 OCPPInterfaceEnumType)."""

    WIRED0 = "Wired0"
    WIRED1 = "Wired1"
    WIRED2 = "Wired2"
    WIRED3 = "Wired3"
    WIRELESS0 = "Wireless0"
    WIRELESS1 = "Wireless1"
    WIRELESS2 = "Wireless2"
    WIRELESS3 = "Wireless3"


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    start_offset_s: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingSchedule:
    """``unit`` is ``"W"`` or ``"A"``."""

    unit: str
    periods: tuple[SchedulePeriod, ...]
    start: datetime | None = None
    duration_s: int | None = None
    schedule_id: int = 1


@dataclass(frozen=True, slots=True)
class CertificateHashData:
    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str


@dataclass(frozen=True, slots=True)
class LocalListEntry:
    """An id token and, unless it is to be removed (differential update), its authorization."""

    id_token: IdToken
    status: str | None = None
    expiry: datetime | None = None
    group: IdToken | None = None


@dataclass(frozen=True, slots=True)
class StartCharging:
    """1.6 RemoteStartTransaction, 2.0.1 RequestStartTransaction."""

    id_token: IdToken
    evse_id: int | None = None
    remote_start_id: int = 0


@dataclass(frozen=True, slots=True)
class StopCharging:
    """1.6 RemoteStopTransaction (``transaction_ref`` must be an integer), 2.0.1
    RequestStopTransaction."""

    transaction_ref: str


@dataclass(frozen=True, slots=True)
class Reset:
    mode: ResetMode = ResetMode.ON_IDLE
    evse_id: int | None = None


@dataclass(frozen=True, slots=True)
class UnlockConnector:
    evse_id: int
    connector_id: int = 1


@dataclass(frozen=True, slots=True)
class ChangeAvailability:
    """``evse_id`` None means the whole station."""

    operative: bool
    evse_id: int | None = None


@dataclass(frozen=True, slots=True)
class GetConfiguration:
    """1.6 GetConfiguration (no keys = all), 2.0.1 GetVariables (keys required)."""

    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Configure:
    """1.6 ChangeConfiguration, 2.0.1 SetVariables of one variable."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Trigger:
    """1.6 TriggerMessage, or ExtendedTriggerMessage (Security Whitepaper) when ``extended``:
    its FirmwareStatusNotification is answered with SignedFirmwareStatusNotification. 2.x has
    one TriggerMessage and ignores ``extended``."""

    message: TriggerKind
    evse_id: int | None = None
    extended: bool = False


@dataclass(frozen=True, slots=True)
class DataTransfer:
    vendor_id: str
    message_id: str | None = None
    data: Any = None


@dataclass(frozen=True, slots=True)
class SetChargingSchedule:
    """1.6 / 2.0.1 SetChargingProfile; ``evse_id`` 0 targets the whole station."""

    evse_id: int
    profile_id: int
    stack_level: int
    purpose: ChargingProfilePurpose
    kind: ChargingProfileKind
    schedule: ChargingSchedule
    transaction_ref: str | None = None


@dataclass(frozen=True, slots=True)
class ClearChargingSchedule:
    profile_id: int | None = None
    evse_id: int | None = None
    purpose: ChargingProfilePurpose | None = None
    stack_level: int | None = None


@dataclass(frozen=True, slots=True)
class UpdateFirmware:
    """1.6 UpdateFirmware (``request_id`` unused, no install time), 2.0.1 UpdateFirmware
    without signature."""

    location: str
    retrieve_at: datetime
    request_id: int = 0
    retries: int | None = None
    retry_interval_s: int | None = None
    install_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SignedUpdateFirmware:
    """1.6 SignedUpdateFirmware, 2.0.1 UpdateFirmware with signing certificate and signature."""

    request_id: int
    location: str
    retrieve_at: datetime
    signing_certificate: str
    signature: str
    install_at: datetime | None = None
    retries: int | None = None
    retry_interval_s: int | None = None


@dataclass(frozen=True, slots=True)
class GetLog:
    """1.6 Security Whitepaper GetLog, 2.0.1 GetLog (N01): upload a log to ``location``; the
    station reports through LogStatusNotification with ``request_id``."""

    request_id: int
    location: str
    log_type: LogType = LogType.DIAGNOSTICS
    oldest: datetime | None = None
    latest: datetime | None = None
    retries: int | None = None
    retry_interval_s: int | None = None


@dataclass(frozen=True, slots=True)
class GetDiagnostics:
    """1.6 GetDiagnostics (Firmware Management profile): upload diagnostics to ``location``;
    reported through DiagnosticsStatusNotification. 2.x has GetLog instead."""

    location: str
    start: datetime | None = None
    stop: datetime | None = None
    retries: int | None = None
    retry_interval_s: int | None = None


@dataclass(frozen=True, slots=True)
class InstallCertificate:
    certificate_type: CertificateUse
    certificate: str


@dataclass(frozen=True, slots=True)
class SendCertificate:
    """CertificateSigned: the chain (PEM) answering a station's CSR."""

    certificate_chain: str
    certificate_type: CertificateSigningUse | None = None


@dataclass(frozen=True, slots=True)
class GetInstalledCertificateIds:
    """1.6 needs exactly one type; 2.0.1 accepts none (= all) or several."""

    certificate_types: tuple[CertificateUse, ...] = ()


@dataclass(frozen=True, slots=True)
class DeleteCertificate:
    hash_data: CertificateHashData


@dataclass(frozen=True, slots=True)
class TriggerCertificateSigning:
    """1.6 ExtendedTriggerMessage(SignChargePointCertificate), 2.0.1 TriggerMessage(Sign...)."""

    certificate_type: CertificateSigningUse = CertificateSigningUse.CHARGING_STATION


@dataclass(frozen=True, slots=True)
class SendLocalList:
    version: int
    update: UpdateType
    entries: tuple[LocalListEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class GetLocalListVersion:
    pass


@dataclass(frozen=True, slots=True)
class SetNetworkProfile:
    """2.0.1 SetNetworkProfile (B09): store connection data in ``configuration_slot``.

    The slot is used once ``OCPPCommCtrlr.NetworkConfigurationPriority`` lists it and the
    station restarts (A05). ``csms_url`` is the gateway's URL without the station identity,
    which the station appends (``wss://host:port/ocpp``); the transport is always JSON.
    OCPP 1.6 has no network profiles (it raises its profile with the ``SecurityProfile`` key).
    """

    configuration_slot: int
    csms_url: str
    security_profile: int
    ocpp_version: OCPPVersion = OCPPVersion.OCPP20
    ocpp_interface: OCPPInterface = OCPPInterface.WIRED0
    message_timeout_s: int = 30


Command = (
    StartCharging
    | StopCharging
    | Reset
    | UnlockConnector
    | ChangeAvailability
    | GetConfiguration
    | Configure
    | Trigger
    | DataTransfer
    | SetChargingSchedule
    | ClearChargingSchedule
    | UpdateFirmware
    | SignedUpdateFirmware
    | GetLog
    | GetDiagnostics
    | InstallCertificate
    | SendCertificate
    | GetInstalledCertificateIds
    | DeleteCertificate
    | TriggerCertificateSigning
    | SendLocalList
    | GetLocalListVersion
    | SetNetworkProfile
)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """A station's answer: ``status`` normalised ("Accepted", "Rejected", "RebootRequired", ...),
    ``payload`` the answer as sent, ``values`` read configuration (key -> value) where asked."""

    status: str
    payload: dict[str, Any]
    values: dict[str, str | None] = field(default_factory=dict)
