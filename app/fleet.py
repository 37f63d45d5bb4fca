"""The fleet at a glance: counts for the overview and the searchable station list.

Read models spanning the charging, enrollment, firmware and CA tables, so they live in the
composition root. Every query is bounded and rides an index (or a small table): the overview
must stay cheap with 10,000 stations and a million meter samples. "Energy today" never reads
the samples of finished sessions: it sums their recorded energy, and takes only the latest
register reading of each running one (the ``(transaction_id, timestamp)`` index, newest first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.ca.tables import CertificateStatus, IssuedCertificateRow
from charging.energy import ENERGY_REGISTER
from charging.events import ConnectorStatus
from charging.ledger import ACTIVE
from charging.tables import Connector, MeterSampleRow, SecurityEventRow, Station, Transaction
from enrollment.tables import DeviceRow, HardwareFamilyRow

EXPIRY_WINDOW = timedelta(days=30)
FIRMWARE_ROWS = 50
"""At most this many (family, version) lines on the overview."""
NO_FAMILY = "(no family)"


@dataclass(frozen=True, slots=True)
class FirmwareCount:
    family: str
    version: str
    stations: int


@dataclass(frozen=True, slots=True)
class FleetFigures:
    """The overview's numbers at ``at``."""

    at: datetime
    stations: int
    online: int
    faulted: int
    sessions_running: int
    energy_today_wh: float
    certificates_expiring: int
    firmware: Sequence[FirmwareCount]

    @property
    def offline(self) -> int:
        return self.stations - self.online


def _faulted_stations() -> SelectOfScalar[str]:
    return (
        select(Connector.station_id)
        .where(Connector.status == ConnectorStatus.FAULTED.value)
        .distinct()
    )


def energy_today_wh(session: Session, now: datetime) -> float:
    """Energy of the sessions started since midnight UTC: finished ones by their recorded
    energy, running ones by their latest register reading minus their meter start."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    started_today = col(Transaction.started_at) >= midnight
    finished = session.exec(
        select(func.coalesce(func.sum(Transaction.energy_wh), 0.0)).where(
            started_today, Transaction.state != ACTIVE
        )
    ).one()
    latest = (
        select(MeterSampleRow.value)
        .where(
            col(MeterSampleRow.transaction_id) == col(Transaction.id),
            MeterSampleRow.measurand == ENERGY_REGISTER,
            col(MeterSampleRow.phase).is_(None),
        )
        .order_by(col(MeterSampleRow.timestamp).desc())
        .limit(1)
        .scalar_subquery()
    )
    running = session.exec(
        select(Transaction.meter_start_wh, latest).where(started_today, Transaction.state == ACTIVE)
    ).all()
    so_far = sum(
        max(0.0, reading - start)
        for start, reading in running
        if start is not None and reading is not None
    )
    return float(finished or 0.0) + float(so_far)


def firmware_by_family(session: Session) -> list[FirmwareCount]:
    """How many stations run each firmware version, per hardware family."""
    family = func.coalesce(HardwareFamilyRow.name, NO_FAMILY)
    version = func.coalesce(Station.firmware_version, "")
    rows = session.exec(
        select(family, version, func.count())
        .select_from(Station)
        .join(DeviceRow, col(DeviceRow.serial) == col(Station.id), isouter=True)
        .join(
            HardwareFamilyRow, col(HardwareFamilyRow.id) == col(DeviceRow.family_id), isouter=True
        )
        .group_by(family, version)
        .order_by(family, version)
        .limit(FIRMWARE_ROWS)
    ).all()
    return [FirmwareCount(str(f), str(v), int(n)) for f, v, n in rows]


def expiring_certificates(
    session: Session, now: datetime, window: timedelta = EXPIRY_WINDOW
) -> int:
    """Certificates still in force that expire within ``window``."""
    query = select(func.count()).where(
        IssuedCertificateRow.status == CertificateStatus.ISSUED.value,
        col(IssuedCertificateRow.not_after) >= now,
        col(IssuedCertificateRow.not_after) < now + window,
    )
    return int(session.exec(query).one())


def fleet_figures(session: Session, now: datetime) -> FleetFigures:
    def count(*where: ColumnElement[bool]) -> int:
        return int(session.exec(select(func.count()).select_from(Station).where(*where)).one())

    faulted = session.exec(select(func.count()).select_from(_faulted_stations().subquery())).one()
    running = session.exec(
        select(func.count()).select_from(Transaction).where(Transaction.state == ACTIVE)
    ).one()
    return FleetFigures(
        at=now,
        stations=count(),
        online=count(col(Station.online).is_(True)),
        faulted=int(faulted),
        sessions_running=int(running),
        energy_today_wh=energy_today_wh(session, now),
        certificates_expiring=expiring_certificates(session, now),
        firmware=firmware_by_family(session),
    )


def recent_security_events(session: Session, limit: int = 10) -> Sequence[SecurityEventRow]:
    query = (
        select(SecurityEventRow)
        .order_by(col(SecurityEventRow.timestamp).desc(), col(SecurityEventRow.id).desc())
        .limit(limit)
    )
    return session.exec(query).all()


class StationState(StrEnum):
    """The station list's state filter."""

    ONLINE = "online"
    OFFLINE = "offline"
    FAULTED = "faulted"


@dataclass(frozen=True, slots=True)
class StationLine:
    station: Station
    family: str | None


def find_stations(
    session: Session,
    *,
    text: str = "",
    state: StationState | None = None,
    family: str = "",
    offset: int = 0,
    limit: int = 50,
) -> list[StationLine]:
    """Stations in id order whose id, model or serial number contains ``text`` (any case)."""
    query = (
        select(Station, HardwareFamilyRow.name)
        .join(DeviceRow, col(DeviceRow.serial) == col(Station.id), isouter=True)
        .join(
            HardwareFamilyRow, col(HardwareFamilyRow.id) == col(DeviceRow.family_id), isouter=True
        )
        .order_by(col(Station.id))
    )
    if text:
        needle = text.lower()
        query = query.where(
            func.lower(col(Station.id)).contains(needle, autoescape=True)
            | func.lower(col(Station.model)).contains(needle, autoescape=True)
            | func.lower(col(Station.serial_number)).contains(needle, autoescape=True)
        )
    if state is StationState.ONLINE:
        query = query.where(col(Station.online).is_(True))
    elif state is StationState.OFFLINE:
        query = query.where(col(Station.online).is_(False))
    elif state is StationState.FAULTED:
        query = query.where(col(Station.id).in_(_faulted_stations()))
    if family:
        query = query.where(HardwareFamilyRow.name == family)
    rows = session.exec(query.offset(offset).limit(limit)).all()
    return [StationLine(station, name) for station, name in rows]


def family_names(session: Session) -> list[str]:
    return list(session.exec(select(HardwareFamilyRow.name).order_by(HardwareFamilyRow.name)))
