"""The stations a rollout may reach, streamed from the database, and their wave assignment.

A candidate is an enrolled device of the family (any state from ``enrolled`` on, short of
``decommissioned``) that the platform knows as a station; its channel is its own override or
the family's default.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from charging.tables import Station
from enrollment.tables import DeviceRow, HardwareFamilyRow
from firmware.tables import StationChannelRow

FIELD_STATES = ("enrolled", "released", "paired")


@dataclass(frozen=True, slots=True)
class Candidate:
    station_id: str
    channel: str
    firmware_version: str | None
    lot: str


def find_family(session: Session, name_or_id: str) -> HardwareFamilyRow | None:
    family = session.exec(
        select(HardwareFamilyRow).where(HardwareFamilyRow.name == name_or_id)
    ).first()
    if family is None and name_or_id.isdigit():
        family = session.get(HardwareFamilyRow, int(name_or_id))
    return family


def family_candidates(
    session: Session, family: HardwareFamilyRow, *, stations: Iterable[str] = ()
) -> Iterator[Candidate]:
    """The family's field stations in station-id order, fetched in batches."""
    query = (
        select(
            DeviceRow.serial,
            DeviceRow.lot,
            Station.firmware_version,
            StationChannelRow.channel,
        )
        .join(Station, col(Station.id) == col(DeviceRow.serial))
        .join(
            StationChannelRow,
            col(StationChannelRow.station_id) == col(DeviceRow.serial),
            isouter=True,
        )
        .where(
            col(DeviceRow.family_id) == family.id,
            col(DeviceRow.state).in_(FIELD_STATES),
        )
        .order_by(col(DeviceRow.serial))
    )
    wanted = list(stations)
    if wanted:
        query = query.where(col(DeviceRow.serial).in_(wanted))
    for serial, lot, version, channel in session.exec(query.execution_options(yield_per=2000)):
        yield Candidate(serial, channel or family.default_channel, version, lot)


def count_stations(session: Session, family: HardwareFamilyRow) -> int:
    query = select(func.count()).where(
        col(DeviceRow.family_id) == family.id, col(DeviceRow.state).in_(FIELD_STATES)
    )
    return int(session.exec(query).one())
