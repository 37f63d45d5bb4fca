"""What a charging station reports, in the platform's own words.

Every OCPP version adapter turns station-initiated messages into these events; the core decides
(see ``charging.outcomes``) and never sees an OCPP message. Values are normalised across
versions: connector states collapse onto the OCPP 2.0.1 five-state model (the 1.6 detail is kept),
meter readings are floats in base units (Wh, W, A, V, %, ...), and times are aware datetimes.

Connector numbering: an OCPP 1.6 ``connectorId`` *n* > 0 is reported as ``evse_id=n,
connector_id=1`` (every 1.6 connector is its own EVSE); ``connectorId`` 0 (the station itself) as
``evse_id=0, connector_id=None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ConnectorStatus(StrEnum):
    """OCPP 2.0.1 ConnectorStatusEnumType; 1.6 states map onto it (see ``status_from_v16``)."""

    AVAILABLE = "Available"
    OCCUPIED = "Occupied"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


_V16_STATUS = {
    "Available": ConnectorStatus.AVAILABLE,
    "Preparing": ConnectorStatus.OCCUPIED,
    "Charging": ConnectorStatus.OCCUPIED,
    "SuspendedEVSE": ConnectorStatus.OCCUPIED,
    "SuspendedEV": ConnectorStatus.OCCUPIED,
    "Finishing": ConnectorStatus.OCCUPIED,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}


def status_from_v16(status: str) -> ConnectorStatus:
    """Map an OCPP 1.6 ChargePointStatus onto the normalised connector status.

    Raises:
        ValueError: ``status`` is not a 1.6 ChargePointStatus.
    """
    try:
        return _V16_STATUS[status]
    except KeyError:
        raise ValueError(f"unknown OCPP 1.6 ChargePointStatus {status!r}") from None


class IdTokenType(StrEnum):
    """OCPP 2.0.1 IdTokenEnumType, plus ``ID_TAG`` for an untyped OCPP 1.6 idTag."""

    CENTRAL = "Central"
    EMAID = "eMAID"
    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    KEY_CODE = "KeyCode"
    LOCAL = "Local"
    MAC_ADDRESS = "MacAddress"
    NO_AUTHORIZATION = "NoAuthorization"
    ID_TAG = "IdTag"


@dataclass(frozen=True, slots=True)
class IdToken:
    """An identifier presented for authorization (RFID UID, app token, ...)."""

    value: str
    type: IdTokenType = IdTokenType.ID_TAG


class BootReason(StrEnum):
    """OCPP 2.0.1 BootReasonEnumType (1.6 BootNotification carries no reason)."""

    APPLICATION_RESET = "ApplicationReset"
    FIRMWARE_UPDATE = "FirmwareUpdate"
    LOCAL_RESET = "LocalReset"
    POWER_UP = "PowerUp"
    REMOTE_RESET = "RemoteReset"
    SCHEDULED_RESET = "ScheduledReset"
    TRIGGERED = "Triggered"
    UNKNOWN = "Unknown"
    WATCHDOG = "Watchdog"


class CertificateSigningUse(StrEnum):
    """What a CSR or a signed certificate is for (2.0.1 CertificateSigningUseEnumType)."""

    CHARGING_STATION = "ChargingStationCertificate"
    V2G = "V2GCertificate"


# Base unit for each unit a station may report, with the factor to reach it.
_UNIT_SCALE: dict[str, tuple[str, float]] = {
    "Wh": ("Wh", 1.0),
    "kWh": ("Wh", 1000.0),
    "varh": ("varh", 1.0),
    "kvarh": ("varh", 1000.0),
    "W": ("W", 1.0),
    "kW": ("W", 1000.0),
    "VA": ("VA", 1.0),
    "kVA": ("VA", 1000.0),
    "var": ("var", 1.0),
    "kvar": ("var", 1000.0),
    "A": ("A", 1.0),
    "V": ("V", 1.0),
    "Percent": ("%", 1.0),
    "%": ("%", 1.0),
    "Celsius": ("Celsius", 1.0),
    "Fahrenheit": ("Fahrenheit", 1.0),
    "K": ("K", 1.0),
    "Hz": ("Hz", 1.0),
}

# OCPP defaults the unit to Wh whatever the measurand; a sample that omits it is read with the
# measurand's natural unit instead, which is what stations that omit it mean in practice.
_MEASURAND_UNIT = {
    "Energy": "Wh",
    "Power.Factor": "%",
    "Power.Reactive": "var",
    "Power": "W",
    "Current": "A",
    "Voltage": "V",
    "Frequency": "Hz",
    "Temperature": "Celsius",
    "SoC": "%",
}


def default_unit(measurand: str) -> str:
    """The unit assumed when a sample names none (Wh for unknown measurands, as OCPP says)."""
    for prefix, unit in _MEASURAND_UNIT.items():
        if measurand.startswith(prefix):
            if prefix == "Energy" and "Reactive" in measurand:
                return "varh"
            return unit
    return "Wh"


def to_base_unit(value: float, unit: str, multiplier: int = 0) -> tuple[float, str]:
    """Scale ``value`` given in ``unit`` x 10^``multiplier`` to the base unit.

    ``to_base_unit(7.4, "kW") == (7400.0, "W")``; 2.0.1 ``unitOfMeasure.multiplier`` is the
    power-of-ten exponent. Unknown units are kept as they are.
    """
    base, factor = _UNIT_SCALE.get(unit, (unit, 1.0))
    scaled = value * factor
    if multiplier:
        scaled *= 10.0**multiplier
    return scaled, base


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampled value, in its base unit (OCPP 1.6 SampledValue / 2.0.1 SampledValueType)."""

    timestamp: datetime
    measurand: str
    value: float
    unit: str
    phase: str | None = None
    context: str | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class StationBooted:
    """BootNotification (1.6 4.2, 2.0.1 B01)."""

    station_id: str
    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None
    reason: BootReason | None = None
    modem_iccid: str | None = None
    modem_imsi: str | None = None


@dataclass(frozen=True, slots=True)
class HeartbeatReceived:
    """Heartbeat (1.6 4.6, 2.0.1 G02)."""

    station_id: str


@dataclass(frozen=True, slots=True)
class ConnectorStatusChanged:
    """StatusNotification (1.6 4.9, 2.0.1 G01); ``detail`` keeps the 1.6 state (e.g. Charging)."""

    station_id: str
    evse_id: int
    connector_id: int | None
    status: ConnectorStatus
    timestamp: datetime | None = None
    detail: str | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationRequested:
    """Authorize (1.6 4.1, 2.0.1 C01)."""

    station_id: str
    id_token: IdToken


@dataclass(frozen=True, slots=True)
class TransactionStarted:
    """1.6 StartTransaction or 2.0.1 TransactionEvent(Started).

    ``transaction_ref`` is None for 1.6: the platform assigns the id in its decision.
    """

    station_id: str
    transaction_ref: str | None
    evse_id: int | None
    connector_id: int | None
    id_token: IdToken | None
    timestamp: datetime
    meter_start_wh: float | None = None
    seq_no: int | None = None
    offline: bool = False
    trigger_reason: str | None = None
    charging_state: str | None = None
    reservation_id: int | None = None
    samples: tuple[MeterSample, ...] = ()
    remote_start_id: int | None = None  # 2.x transactionInfo.remoteStartId (F01/F02)


@dataclass(frozen=True, slots=True)
class TransactionUpdated:
    """2.0.1 TransactionEvent(Updated); 1.6 reports progress through ``MeterSampled`` instead."""

    station_id: str
    transaction_ref: str
    evse_id: int | None
    connector_id: int | None
    id_token: IdToken | None
    timestamp: datetime
    seq_no: int | None = None
    offline: bool = False
    trigger_reason: str | None = None
    charging_state: str | None = None
    samples: tuple[MeterSample, ...] = ()
    remote_start_id: int | None = None  # 2.x transactionInfo.remoteStartId (F01/F02)


@dataclass(frozen=True, slots=True)
class TransactionEnded:
    """1.6 StopTransaction (``transaction_ref`` is the integer id as a string) or 2.0.1
    TransactionEvent(Ended)."""

    station_id: str
    transaction_ref: str
    evse_id: int | None
    connector_id: int | None
    id_token: IdToken | None
    timestamp: datetime
    meter_stop_wh: float | None = None
    seq_no: int | None = None
    offline: bool = False
    trigger_reason: str | None = None
    stop_reason: str | None = None
    samples: tuple[MeterSample, ...] = ()
    remote_start_id: int | None = None  # 2.x transactionInfo.remoteStartId (F01/F02)


@dataclass(frozen=True, slots=True)
class MeterSampled:
    """MeterValues (1.6 4.7, 2.0.1 J01); 1.6 may tie it to a transaction."""

    station_id: str
    evse_id: int
    connector_id: int | None
    samples: tuple[MeterSample, ...]
    transaction_ref: str | None = None


@dataclass(frozen=True, slots=True)
class FirmwareStatusChanged:
    """FirmwareStatusNotification, 1.6 SignedFirmwareStatusNotification (L01)."""

    station_id: str
    status: str
    request_id: int | None = None
    signed: bool = False


@dataclass(frozen=True, slots=True)
class LogUploadStatusChanged:
    """1.6 DiagnosticsStatusNotification (``diagnostics=True``) or LogStatusNotification (N01)."""

    station_id: str
    status: str
    request_id: int | None = None
    diagnostics: bool = False


@dataclass(frozen=True, slots=True)
class CertificateRequested:
    """SignCertificate (1.6 Security Whitepaper A02, 2.0.1 A02): a CSR in PEM."""

    station_id: str
    csr: str
    certificate_type: CertificateSigningUse = CertificateSigningUse.CHARGING_STATION


@dataclass(frozen=True, slots=True)
class SecurityEventRaised:
    """SecurityEventNotification (1.6 Security Whitepaper, 2.0.1 A04)."""

    station_id: str
    type: str
    timestamp: datetime
    tech_info: str | None = None


@dataclass(frozen=True, slots=True)
class DataTransferReceived:
    """DataTransfer from the station (1.6 4.3, 2.0.1 P02)."""

    station_id: str
    vendor_id: str
    message_id: str | None = None
    data: Any = None


@dataclass(frozen=True, slots=True)
class StationMessage:
    """A valid station-initiated message the core has no dedicated event for (NotifyReport,
    NotifyEvent, ...); its reply is always empty."""

    station_id: str
    action: str
    payload: dict[str, Any]


Event = (
    StationBooted
    | HeartbeatReceived
    | ConnectorStatusChanged
    | AuthorizationRequested
    | TransactionStarted
    | TransactionUpdated
    | TransactionEnded
    | MeterSampled
    | FirmwareStatusChanged
    | LogUploadStatusChanged
    | CertificateRequested
    | SecurityEventRaised
    | DataTransferReceived
    | StationMessage
)
