"""Past and running charging sessions as the operator reads them: filtered lists, a session's
meter values page by page, and the readings its charging curve is drawn from.

Every query here is bounded: lists are fetched one page (plus one row, to know whether a next
page exists) at a time, along an index (``transactions.id``, ``station_id``, ``id_token``,
``started_at``; ``meter_samples (transaction_id, timestamp)``). A session's chart is computed
from its readings, or for a long session grouped into time buckets by the database
(:func:`session_chart`), so a chart never costs more than one scan of one session's samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, cast, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from charging.curves import MAX_POINTS, Bucket, SessionCurve, bucketed_curve, session_curve
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


@dataclass(frozen=True, slots=True)
class SampleSpan:
    """How many samples a transaction has and the time they cover (from the index alone)."""

    readings: int
    first: datetime | None
    last: datetime | None


def sample_span(session: Session, transaction_id: int) -> SampleSpan:
    stamp = col(MeterSampleRow.timestamp)
    count, first, last = session.execute(
        select_columns(func.count(), func.min(stamp), func.max(stamp)).where(
            col(MeterSampleRow.transaction_id) == transaction_id
        )
    ).one()
    return SampleSpan(int(count), as_utc(first), as_utc(last))


def _epoch(session: Session) -> ColumnElement[Any]:
    stamp = col(MeterSampleRow.timestamp)
    if session.get_bind().dialect.name == "postgresql":
        return func.date_part("epoch", stamp)  # double precision; EXTRACT is numeric
    return (func.julianday(stamp) - 2440587.5) * 86400.0


def _bucket(session: Session, epoch: ColumnElement[Any], start: float, width: float) -> Any:
    offset = (epoch - start) / width
    if session.get_bind().dialect.name == "postgresql":
        return func.floor(offset)
    return cast(offset, Integer)


def curve_buckets(
    session: Session, transaction_id: int, span: SampleSpan, buckets: int
) -> list[Bucket]:
    """The power and energy register totals of a long transaction, grouped by the database into
    at most ``buckets`` equal time buckets over ``span``, oldest first: one scan along the
    index, one integer group key, conditional aggregates for both measurands. Only total
    (phase-less) readings count here; a station that reports power per phase only gets its power
    derived from the energy register (``charging.curves.bucketed_curve``)."""
    if span.first is None or span.last is None:
        return []
    start = span.first.timestamp()
    width = max((span.last.timestamp() - start) / buckets, 1e-6) * (1 + 1e-9)
    bucket = _bucket(session, _epoch(session), start, width).label("bucket")
    value, measurand = col(MeterSampleRow.value), col(MeterSampleRow.measurand)
    stamp = col(MeterSampleRow.timestamp)

    def of(name: str) -> Any:
        return case((measurand == name, value))

    rows = session.execute(
        select_columns(
            bucket,
            func.min(stamp),
            func.max(stamp),
            func.min(of(POWER)),
            func.max(of(POWER)),
            func.max(of(ENERGY_REGISTER)),
        )
        .where(
            col(MeterSampleRow.transaction_id) == transaction_id,
            measurand.in_((POWER, ENERGY_REGISTER)),
            col(MeterSampleRow.phase).is_(None),
        )
        .group_by(bucket)
    )
    # Sorted here, not by the database: a hash aggregate then spares it sorting every sample.
    return sorted(
        (
            Bucket(as_utc(first), as_utc(last), low, high, energy)
            for _, first, last, low, high, energy in rows
        ),
        key=lambda bucket: bucket.first,
    )


THIN_ABOVE = 20_000
"""A transaction with more samples than this has its curve grouped by the database."""


def session_chart(
    session: Session, tx: Transaction, span: SampleSpan | None = None
) -> SessionCurve:
    """A transaction's charging curve for a chart, at most ``MAX_POINTS`` per series: computed
    from every reading for an ordinary session, from the database's per-bucket totals for a long
    one (more than ``THIN_ABOVE`` samples), so that 100,000 samples cost one grouped scan.
    ``span`` is :func:`sample_span`'s answer when the caller has it already."""
    assert tx.id is not None
    span = span or sample_span(session, tx.id)
    if span.readings <= THIN_ABOVE:
        return session_curve(curve_samples(session, tx.id), meter_start_wh=tx.meter_start_wh)
    buckets = curve_buckets(session, tx.id, span, MAX_POINTS // 2)
    return bucketed_curve(buckets, meter_start_wh=tx.meter_start_wh, readings=span.readings)
