"""Lots and device lists as the factory sees them: counts per lifecycle stage, filtered lists.

A lot is the ``lot`` column of the whitelist (no table of its own). :func:`lot_summaries`
counts a page of lots in one grouped query; :func:`device_query` is the filtered, ordered
device list that the REST API and the dashboard both page through.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from common.clock import as_utc
from enrollment.lifecycle import DeviceState
from enrollment.tables import DeviceRow

__all__ = ["LotSummary", "device_query", "lot_summaries", "lot_summary"]

_FIELD = (DeviceState.RELEASED.value, DeviceState.PAIRED.value)


@dataclass(frozen=True, slots=True)
class LotSummary:
    """One lot's devices by stage; ``released`` counts those in the field (released or paired)."""

    lot: str
    devices: int
    registered: int
    enrolled: int
    released: int
    decommissioned: int
    last_registered_at: datetime


def _count(*states: str) -> Any:
    return func.sum(case((col(DeviceRow.state).in_(states), 1), else_=0))


def _grouped() -> Any:
    return select(  # type: ignore[call-overload]
        DeviceRow.lot,
        func.count(),
        _count(DeviceState.REGISTERED.value),
        _count(DeviceState.ENROLLED.value),
        _count(*_FIELD),
        _count(DeviceState.DECOMMISSIONED.value),
        func.max(DeviceRow.created_at),
    ).group_by(DeviceRow.lot)


def _summary(row: Sequence[Any]) -> LotSummary:
    lot, devices, registered, enrolled, released, decommissioned, last = row
    return LotSummary(
        lot=lot,
        devices=int(devices),
        registered=int(registered or 0),
        enrolled=int(enrolled or 0),
        released=int(released or 0),
        decommissioned=int(decommissioned or 0),
        last_registered_at=as_utc(last),
    )


def lot_summaries(
    session: Session, *, offset: int, limit: int, search: str = ""
) -> list[LotSummary]:
    """Lots whose name contains ``search``, newest registration first, one grouped query."""
    query = _grouped()
    if search:
        query = query.where(col(DeviceRow.lot).contains(search, autoescape=True))
    query = query.order_by(func.max(DeviceRow.created_at).desc(), DeviceRow.lot)
    return [_summary(row) for row in session.exec(query.offset(offset).limit(limit)).all()]


def lot_summary(session: Session, lot: str) -> LotSummary | None:
    """One lot's counts, or None when no device carries that lot."""
    row = session.exec(_grouped().where(DeviceRow.lot == lot)).first()
    return None if row is None else _summary(row)


def device_query(
    *,
    lot: str | None = None,
    states: Collection[DeviceState] = (),
    family_ids: Collection[int] | None = None,
    serial_prefix: str = "",
    mac: int | None = None,
) -> SelectOfScalar[DeviceRow]:
    """Devices in serial order, narrowed by each filter given.

    ``serial_prefix`` (canonical, upper case) and ``mac`` match either one when both are given,
    so one search box finds a device by the start of its serial or by its MAC address.
    """
    query = select(DeviceRow).order_by(col(DeviceRow.serial))
    if lot is not None:
        query = query.where(DeviceRow.lot == lot)
    if states:
        query = query.where(col(DeviceRow.state).in_([state.value for state in states]))
    if family_ids is not None:
        query = query.where(col(DeviceRow.family_id).in_(list(family_ids)))
    matches = []
    if serial_prefix:
        matches.append(col(DeviceRow.serial).startswith(serial_prefix, autoescape=True))
    if mac is not None:
        matches.append(col(DeviceRow.mac) == mac)
    if matches:
        query = query.where(or_(*matches))
    return query
