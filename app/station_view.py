"""One station as admins look at it: its connectors, sessions, certificate and firmware history.

Each read is one bounded query on an indexed column of the station (``station_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.ca.tables import CertificateStatus, IssuedCertificateRow
from charging.tables import Connector, Station, Transaction
from enrollment.tables import DeviceRow, HardwareFamilyRow
from firmware.rollout_tables import FirmwareReportRow, RolloutTargetRow

RECENT_SESSIONS = 10
FIRMWARE_HISTORY = 20
FIRMWARE_KINDS = ("status", "boot")
"""The firmware reports that make a station's firmware history (see ``FirmwareReportRow``)."""


def connectors_of(session: Session, station_id: str) -> Sequence[Connector]:
    """The station's connectors as last reported, in EVSE and connector order."""
    return session.exec(
        select(Connector)
        .where(Connector.station_id == station_id)
        .order_by(col(Connector.evse_id), col(Connector.connector_id))
    ).all()


def recent_sessions(
    session: Session, station_id: str, limit: int = RECENT_SESSIONS
) -> Sequence[Transaction]:
    return session.exec(
        select(Transaction)
        .where(Transaction.station_id == station_id)
        .order_by(col(Transaction.id).desc())
        .limit(limit)
    ).all()


def current_certificate(session: Session, station_id: str) -> IssuedCertificateRow | None:
    """The station's certificate in force with the latest expiry, else the last one issued."""
    base = select(IssuedCertificateRow).where(IssuedCertificateRow.station_id == station_id)
    in_force = session.exec(
        base.where(IssuedCertificateRow.status == CertificateStatus.ISSUED.value)
        .order_by(col(IssuedCertificateRow.not_after).desc())
        .limit(1)
    ).first()
    if in_force is not None:
        return in_force
    return session.exec(base.order_by(col(IssuedCertificateRow.id).desc()).limit(1)).first()


def firmware_reports(
    session: Session, station_id: str, limit: int = FIRMWARE_HISTORY
) -> Sequence[FirmwareReportRow]:
    """The station's firmware status notifications and booted versions, newest first."""
    return session.exec(
        select(FirmwareReportRow)
        .where(
            FirmwareReportRow.station_id == station_id,
            col(FirmwareReportRow.kind).in_(FIRMWARE_KINDS),
        )
        .order_by(col(FirmwareReportRow.id).desc())
        .limit(limit)
    ).all()


def rollout_targets(
    session: Session, station_id: str, limit: int = FIRMWARE_HISTORY
) -> Sequence[RolloutTargetRow]:
    """The rollouts that reached the station, newest first."""
    return session.exec(
        select(RolloutTargetRow)
        .where(RolloutTargetRow.station_id == station_id)
        .order_by(col(RolloutTargetRow.id).desc())
        .limit(limit)
    ).all()


def family_of(session: Session, station_id: str) -> str | None:
    """The hardware family of the device behind the station (its serial is the station id)."""
    return session.exec(
        select(HardwareFamilyRow.name)
        .join(DeviceRow, col(DeviceRow.family_id) == col(HardwareFamilyRow.id))
        .where(DeviceRow.serial == station_id)
    ).first()


@dataclass(frozen=True, slots=True)
class StationView:
    station: Station
    family: str | None
    connectors: Sequence[Connector]
    sessions: Sequence[Transaction]
    certificate: IssuedCertificateRow | None
    firmware: Sequence[FirmwareReportRow]
    rollouts: Sequence[RolloutTargetRow]


def station_view(session: Session, station_id: str) -> StationView | None:
    station = session.get(Station, station_id)
    if station is None:
        return None
    return StationView(
        station=station,
        family=family_of(session, station_id),
        connectors=connectors_of(session, station_id),
        sessions=recent_sessions(session, station_id),
        certificate=current_certificate(session, station_id),
        firmware=firmware_reports(session, station_id),
        rollouts=rollout_targets(session, station_id),
    )
