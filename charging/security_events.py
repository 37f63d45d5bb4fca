"""Stations' security events (SecurityEventNotification): the list, and which are critical.

OCPP 2.0.1 Part 2 Appendices, "Security events": each event type is marked critical or not; a
critical one is pushed to the CSMS at once. The 1.6 Security Whitepaper (Ed. 3, appendix 1)
uses the same list. Unknown (vendor) types count as not critical.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from charging.tables import SecurityEventRow

CRITICAL_TYPES: frozenset[str] = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
        "MaintenanceLoginAccepted",
        "MaintenanceLoginFailed",
    }
)
KNOWN_TYPES: tuple[str, ...] = (
    "FirmwareUpdated",
    "FailedToAuthenticateAtCsms",
    "CsmsFailedToAuthenticate",
    "CentralSystemFailedToAuthenticate",
    "SettingSystemTime",
    "StartupOfTheDevice",
    "ResetOrReboot",
    "SecurityLogWasCleared",
    "ReconfigurationOfSecurityParameters",
    "MemoryExhaustion",
    "InvalidMessages",
    "AttemptedReplayAttacks",
    "TamperDetectionActivated",
    "InvalidFirmwareSignature",
    "InvalidFirmwareSigningCertificate",
    "InvalidCsmsCertificate",
    "InvalidCentralSystemCertificate",
    "InvalidChargingStationCertificate",
    "InvalidChargePointCertificate",
    "InvalidTLSVersion",
    "InvalidTLSCipherSuite",
    "MaintenanceLoginAccepted",
    "MaintenanceLoginFailed",
)


class Severity(StrEnum):
    CRITICAL = "critical"
    INFO = "info"


def severity_of(event_type: str) -> Severity:
    return Severity.CRITICAL if event_type in CRITICAL_TYPES else Severity.INFO


@dataclass(frozen=True, slots=True)
class SecurityEventFilter:
    station_id: str | None = None
    type: str | None = None
    severity: Severity | None = None
    since: datetime | None = None


def security_event_query(wanted: SecurityEventFilter) -> SelectOfScalar[SecurityEventRow]:
    """The stations' security events matching ``wanted``, newest first (by the station's time)."""
    query = select(SecurityEventRow).order_by(
        col(SecurityEventRow.timestamp).desc(), col(SecurityEventRow.id).desc()
    )
    if wanted.station_id is not None:
        query = query.where(SecurityEventRow.station_id == wanted.station_id)
    if wanted.type is not None:
        query = query.where(SecurityEventRow.type == wanted.type)
    if wanted.severity is Severity.CRITICAL:
        query = query.where(col(SecurityEventRow.type).in_(sorted(CRITICAL_TYPES)))
    elif wanted.severity is Severity.INFO:
        query = query.where(col(SecurityEventRow.type).not_in(sorted(CRITICAL_TYPES)))
    if wanted.since is not None:
        query = query.where(col(SecurityEventRow.timestamp) >= wanted.since)
    return query
