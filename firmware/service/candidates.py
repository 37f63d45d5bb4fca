"""The stations a rollout may reach, streamed from the database, and their wave assignment.

A candidate is an enrolled device of the family (any state from ``enrolled`` on, short of
``decommissioned``) that the platform knows as a station; its channel is its own override or
the family's default.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from charging.tables import Station
from enrollment.tables import DeviceRow, HardwareFamilyRow
from firmware.rollout.policy import TargetSelection, WavePlan
from firmware.tables import StationChannelRow
from firmware.versions import is_newer

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


def selected(candidate: Candidate, selection: TargetSelection) -> bool:
    """Whether ``selection`` takes ``candidate`` (the family is already matched)."""
    if selection.channel is not None and candidate.channel != selection.channel:
        return False
    if selection.lots and candidate.lot not in selection.lots:
        return False
    if selection.stations and candidate.station_id not in selection.stations:
        return False
    if selection.below_version is not None and (
        candidate.firmware_version is None
        or not is_newer(selection.below_version, candidate.firmware_version)
    ):
        return False
    if selection.sample_percent is not None:
        digest = hashlib.sha256(f"{selection.seed}:{candidate.station_id}".encode()).digest()
        if int.from_bytes(digest[:8], "big") % 10_000 >= selection.sample_percent * 100:
            return False
    return True


def wave_sizes(total: int, plan: WavePlan) -> list[int]:
    """The sizes of the waves over ``total`` targets, assuming every station succeeds."""
    if total <= 0:
        return []
    sizes: list[int] = []
    if plan.kind == "fixed":
        index = 0
        while sum(sizes) < total:
            size = plan.sizes[min(index, len(plan.sizes) - 1)]
            sizes.append(min(size, total - sum(sizes)))
            index += 1
    elif plan.kind == "percent":
        done = 0
        for share in plan.percents:
            upto = min(total, -(-int(round(share * total * 100)) // 10_000))
            if upto > done:
                sizes.append(upto - done)
                done = upto
        if done < total:
            sizes.append(total - done)
    else:
        size, succeeded_since_raise = plan.base, 0
        while sum(sizes) < total:
            take = min(size, total - sum(sizes))
            sizes.append(take)
            succeeded_since_raise += take
            if succeeded_since_raise >= plan.raise_after:
                size = -(-int(size * plan.factor * 1000) // 1000)
                if plan.max_size is not None:
                    size = min(size, plan.max_size)
                succeeded_since_raise = 0
    return sizes


def count_stations(session: Session, family: HardwareFamilyRow) -> int:
    query = select(func.count()).where(
        col(DeviceRow.family_id) == family.id, col(DeviceRow.state).in_(FIELD_STATES)
    )
    return int(session.exec(query).one())
