"""Past and running charging sessions as the operator reads them: filtered lists, a session's
meter values page by page, and the readings its charging curve is drawn from.

Every query here is bounded: lists are fetched one page (plus one row, to know whether a next
page exists) at a time, along an index (``transactions.id``, ``station_id``, ``id_token``,
``started_at``; ``meter_samples (transaction_id, timestamp)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from charging.energy import ENERGY_REGISTER, POWER, energy_wh, totals
from charging.events import MeterSample
from charging.ledger import ACTIVE
from charging.tables import MeterSampleRow, Transaction
from common.clock import as_utc

_SAMPLE_COLUMNS = (
    col(MeterSampleRow.timestamp),
    col(MeterSampleRow.measurand),
    col(MeterSampleRow.phase),
    col(MeterSampleRow.value),
    col(MeterSampleRow.unit),
    col(MeterSampleRow.context),
)
# Enough rows to cover every phase of one reading at the first or last timestamp.
_ENDS = 12


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    """Which transactions a list shows; ``None`` leaves a criterion out. ``since`` is
    inclusive and ``until`` exclusive, both on the start time."""

    station_id: str | None = None
    id_token: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    active: bool | None = None


def transactions_query(where: TransactionFilter) -> SelectOfScalar[Transaction]:
    """The transactions matching ``where``, newest first (by id)."""
    query = select(Transaction).order_by(col(Transaction.id).desc())
    if where.station_id is not None:
        query = query.where(Transaction.station_id == where.station_id)
    if where.id_token is not None:
        query = query.where(Transaction.id_token == where.id_token)
    if where.since is not None:
        query = query.where(col(Transaction.started_at) >= where.since)
    if where.until is not None:
        query = query.where(col(Transaction.started_at) < where.until)
    if where.active is not None:
        query = query.where(
            Transaction.state == ACTIVE if where.active else Transaction.state != ACTIVE
        )
    return query


def find_transactions(
    session: Session, where: TransactionFilter, *, offset: int, limit: int
) -> list[Transaction]:
    """Up to ``limit`` transactions from ``offset`` on (ask one more to learn of a next page)."""
    return list(session.exec(transactions_query(where).offset(offset).limit(limit)).all())


def _sample(row: Any) -> MeterSample:
    timestamp, measurand, phase, value, unit, context = row
    return MeterSample(
        timestamp=as_utc(timestamp),
        measurand=measurand,
        value=value,
        unit=unit,
        phase=phase,
        context=context,
    )


def sample_page(
    session: Session, transaction_id: int, *, offset: int, limit: int
) -> list[MeterSample]:
    """A page of a transaction's meter values, oldest first."""
    rows = session.execute(
        select_columns(*_SAMPLE_COLUMNS)
        .where(col(MeterSampleRow.transaction_id) == transaction_id)
        .order_by(col(MeterSampleRow.timestamp), col(MeterSampleRow.id))
        .offset(offset)
        .limit(limit)
    )
    return [_sample(r) for r in rows]


def curve_samples(session: Session, transaction_id: int) -> list[MeterSample]:
    """The power and energy register readings of a transaction, oldest first: what its curve
    is drawn from (other measurands are left in the database)."""
    rows = session.execute(
        select_columns(*_SAMPLE_COLUMNS)
        .where(
            col(MeterSampleRow.transaction_id) == transaction_id,
            col(MeterSampleRow.measurand).in_((POWER, ENERGY_REGISTER)),
        )
        .order_by(col(MeterSampleRow.timestamp), col(MeterSampleRow.id))
    )
    return [_sample(r) for r in rows]


def _register_end(session: Session, transaction_id: int, *, last: bool) -> Sequence[MeterSample]:
    order = col(MeterSampleRow.timestamp).desc() if last else col(MeterSampleRow.timestamp)
    rows = session.execute(
        select_columns(*_SAMPLE_COLUMNS)
        .where(
            col(MeterSampleRow.transaction_id) == transaction_id,
            col(MeterSampleRow.measurand) == ENERGY_REGISTER,
        )
        .order_by(order)
        .limit(_ENDS)
    )
    readings = [_sample(r) for r in rows]
    if not readings:
        return []
    edge = readings[0].timestamp
    return [r for r in readings if r.timestamp == edge]


def energy_so_far(session: Session, tx: Transaction) -> float | None:
    """Energy of a transaction in Wh: the stored figure once it ended; while it runs, the last
    register reading minus the start value, read from at most two short index scans."""
    if tx.state != ACTIVE or tx.id is None:
        return tx.energy_wh
    ends = list(_register_end(session, tx.id, last=True))
    if tx.meter_start_wh is None:
        ends = [*_register_end(session, tx.id, last=False), *ends]
    if not totals(ends, ENERGY_REGISTER):
        return None
    return energy_wh(tx.meter_start_wh, None, ends)
