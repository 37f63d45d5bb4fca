"""Queries of the factory line: families, the MAC pool, devices.

Functions take an open session and commit nothing. The MAC allocator is the one place where
concurrency matters: it moves a range's counter with a single conditional
``UPDATE mac_ranges SET next_index = next_index + 1 WHERE id = ? AND next_index < size
RETURNING first, next_index``. On PostgreSQL the row lock queues concurrent allocators, and the
``WHERE`` is checked again on the row as the previous holder left it; on SQLite writers are
serialised anyway. Either way no index is handed out twice, and the unique constraint on
``devices.mac`` stands behind it. The counter moves inside the registration's transaction, so
a registration that rolls back gives its address back.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from enrollment.identifiers import MacRange, format_mac
from enrollment.service_errors import (
    FamilyExists,
    FamilyInUse,
    MacPoolEmpty,
    MacRangeOverlap,
    UnknownDevice,
    UnknownFamily,
)
from enrollment.tables import DeviceRow, HardwareFamilyRow, MacRangeRow

__all__ = [
    "add_family",
    "add_mac_range",
    "allocate_mac",
    "delete_family",
    "device_by_idempotency_key",
    "family_by_name",
    "get_device",
    "get_family",
    "lot_devices",
]


def family_by_name(session: Session, name: str) -> HardwareFamilyRow | None:
    return session.exec(select(HardwareFamilyRow).where(HardwareFamilyRow.name == name)).first()


def get_family(session: Session, name: str) -> HardwareFamilyRow:
    """Raises ``UnknownFamily``."""
    family = family_by_name(session, name)
    if family is None:
        raise UnknownFamily(name)
    return family


def add_family(
    session: Session,
    *,
    name: str,
    vendor: str,
    model: str,
    ocpp_version: str,
    default_channel: str,
) -> HardwareFamilyRow:
    """Raises ``FamilyExists`` (also when a concurrent insert wins: the unique name decides)."""
    if family_by_name(session, name) is not None:
        raise FamilyExists(name)
    family = HardwareFamilyRow(
        name=name,
        vendor=vendor,
        model=model,
        ocpp_version=ocpp_version,
        default_channel=default_channel,
    )
    session.add(family)
    session.flush()
    return family


def delete_family(session: Session, name: str) -> None:
    """Raises ``UnknownFamily``, ``FamilyInUse``."""
    family = get_family(session, name)
    count = session.exec(
        select(func.count()).select_from(DeviceRow).where(DeviceRow.family_id == family.id)
    ).one()
    if count:
        raise FamilyInUse(name, count)
    session.delete(family)
    session.flush()


def add_mac_range(session: Session, mac_range: MacRange) -> MacRangeRow:
    """Add ``mac_range`` to the pool.

    Raises:
        MacRangeOverlap: it shares an address with a range already in the pool.
    """
    overlapping = session.exec(
        select(MacRangeRow).where(
            col(MacRangeRow.first) <= mac_range.last, col(MacRangeRow.last) >= mac_range.first
        )
    ).first()
    if overlapping is not None:
        existing = f"{format_mac(overlapping.first)}-{format_mac(overlapping.last)}"
        raise MacRangeOverlap(str(mac_range), existing)
    row = MacRangeRow(first=mac_range.first, last=mac_range.last)
    session.add(row)
    session.flush()
    return row


def mac_ranges(session: Session) -> Sequence[MacRangeRow]:
    return session.exec(select(MacRangeRow).order_by(col(MacRangeRow.id))).all()


def allocate_mac(session: Session) -> tuple[int, int]:
    """Take the next free address of the pool; return ``(range id, address)``.

    Ranges are used in the order they were added.

    Raises:
        MacPoolEmpty: every range is used up (or there is none).
    """
    size = col(MacRangeRow.last) - col(MacRangeRow.first) + 1
    candidates = session.exec(
        select(MacRangeRow.id)
        .where(col(MacRangeRow.next_index) < size)
        .order_by(col(MacRangeRow.id))
    ).all()
    for range_id in candidates:
        taken = session.exec(
            update(MacRangeRow)
            .where(col(MacRangeRow.id) == range_id, col(MacRangeRow.next_index) < size)
            .values(next_index=col(MacRangeRow.next_index) + 1)
            .returning(col(MacRangeRow.first), col(MacRangeRow.next_index))
            .execution_options(synchronize_session=False)
        ).first()
        if taken is not None and range_id is not None:
            first, next_index = taken
            return range_id, int(first) + int(next_index) - 1
    ranges = mac_ranges(session)
    raise MacPoolEmpty(len(ranges), sum(row.last - row.first + 1 for row in ranges))


def get_device(session: Session, serial: str, *, for_update: bool = False) -> DeviceRow:
    """The device with this canonical serial; ``for_update`` locks its row (PostgreSQL).

    Raises:
        UnknownDevice.
    """
    query = select(DeviceRow).where(DeviceRow.serial == serial)
    if for_update:
        query = query.with_for_update()
    device = session.exec(query).first()
    if device is None:
        raise UnknownDevice(f"device {serial}")
    return device


def device_by_idempotency_key(session: Session, key: str) -> DeviceRow | None:
    return session.exec(select(DeviceRow).where(DeviceRow.idempotency_key == key)).first()


def lot_devices(session: Session, lot: str, *, for_update: bool = False) -> Sequence[DeviceRow]:
    """The devices of ``lot`` in serial order. Raises ``UnknownDevice`` for an empty lot."""
    query = select(DeviceRow).where(DeviceRow.lot == lot).order_by(col(DeviceRow.serial))
    if for_update:
        query = query.with_for_update()
    devices = session.exec(query).all()
    if not devices:
        raise UnknownDevice(f"lot {lot}")
    return devices
