"""Transactions and meter values within one database transaction (the persistence side).

A ``Ledger`` wraps an open session: it finds transactions (caching them, and prefetching a
whole batch in two queries), applies the idempotency rules of ``charging.idempotency`` and
collects meter samples for one bulk insert. It commits nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, insert, tuple_
from sqlmodel import Session, col, select

from charging.energy import ENERGY_REGISTER, energy_wh
from charging.events import (
    Event,
    MeterSample,
    MeterSampled,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from charging.idempotency import is_resent, start_key
from charging.remote_starts import link
from charging.tables import MeterSampleRow, Station, Transaction
from common.clock import as_utc

ACTIVE = "active"
ENDED = "ended"


class LookupCache:
    """Facts that never change once committed, kept across units of work: which stations exist
    (stations are never deleted) and which id a transaction reference maps to. Only what was
    read from the database goes in, never what an uncommitted unit of work created."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self.stations: set[str] = set()
        self.transaction_ids: dict[tuple[str, str], int] = {}

    def keep(self, stations: Iterable[str], transaction_ids: dict[tuple[str, str], int]) -> None:
        if len(self.stations) + len(self.transaction_ids) > self.max_entries:
            self.stations, self.transaction_ids = set(), {}
        self.stations.update(stations)
        self.transaction_ids.update(transaction_ids)


class Ledger:
    """Transaction bookkeeping for one unit of work on ``session``."""

    def __init__(self, session: Session, cache: LookupCache | None = None) -> None:
        self.session = session
        self.cache = cache or LookupCache()
        self._by_ref: dict[tuple[str, str], Transaction] = {}
        self._active: dict[tuple[str, int], int | None] = {}
        self._rows: list[dict[str, Any]] = []
        self.known_stations: set[str] = set()
        self._meter_tx: dict[tuple[str, str], int | None] = {}

    # -- lookups ----------------------------------------------------------------------------

    def prefetch(self, events: Sequence[Event]) -> None:
        """Load, in a few queries, the stations ``events`` come from, the transactions they name
        and the active transactions of stations whose meter values name none."""
        cache = self.cache
        station_ids = list({e.station_id for e in events} - cache.stations)
        if station_ids:
            found = self.session.exec(select(Station.id).where(col(Station.id).in_(station_ids)))
            self.known_stations.update(found)
        changed = {
            (e.station_id, e.transaction_ref)
            for e in events
            if isinstance(e, (TransactionUpdated, TransactionEnded))
        }
        metered = {
            (e.station_id, e.transaction_ref)
            for e in events
            if isinstance(e, MeterSampled) and e.transaction_ref is not None
        }
        self._meter_tx = {key: cache.transaction_ids.get(key) for key in metered}
        metered = {key for key, tx_id in self._meter_tx.items() if tx_id is None}
        untied = {
            e.station_id for e in events if isinstance(e, MeterSampled) and not e.transaction_ref
        }
        if changed:
            for tx in self.session.exec(select(Transaction).where(_ref_in(changed))):
                self._by_ref[(tx.station_id, tx.transaction_ref)] = tx
            for key in changed:
                self._by_ref.setdefault(key, _MISSING)
        if metered:
            columns = select(Transaction.station_id, Transaction.transaction_ref, Transaction.id)
            for station_id, ref, tx_id in self.session.exec(columns.where(_ref_in(metered))):
                self._meter_tx[(station_id, ref)] = tx_id
        if untied:
            query = (
                select(Transaction.station_id, Transaction.evse_id, Transaction.id)
                .where(col(Transaction.station_id).in_(untied), Transaction.state == ACTIVE)
                .order_by(col(Transaction.id))
            )
            for station_id, evse_id, tx_id in self.session.exec(query):
                self._active[(station_id, evse_id or 0)] = tx_id
        found_ids = {k: v for k, v in self._meter_tx.items() if v is not None}
        cache.keep(self.known_stations, found_ids)

    def station_known(self, station_id: str) -> bool:
        return station_id in self.known_stations or station_id in self.cache.stations

    def find(self, station_id: str, ref: str) -> Transaction | None:
        key = (station_id, ref)
        cached = self._by_ref.get(key)
        if cached is None:
            cached = self.session.exec(
                select(Transaction).where(
                    Transaction.station_id == station_id, Transaction.transaction_ref == ref
                )
            ).first()
            self._by_ref[key] = cached or _MISSING
        return None if cached is _MISSING else cached

    def active_on(self, station_id: str, evse_id: int) -> int | None:
        key = (station_id, evse_id)
        if key not in self._active:
            tx = self.session.exec(
                select(Transaction)
                .where(
                    Transaction.station_id == station_id,
                    Transaction.evse_id == evse_id,
                    Transaction.state == ACTIVE,
                )
                .order_by(col(Transaction.id).desc())
            ).first()
            self._active[key] = tx.id if tx else None
        return self._active[key]

    # -- events -----------------------------------------------------------------------------

    def start(self, event: TransactionStarted) -> Transaction:
        """Record a start; a resend (same 1.6 fingerprint or seen 2.0.1 seq_no) changes nothing."""
        if event.transaction_ref is None:
            key = start_key(event)
            tx = self.session.exec(
                select(Transaction).where(
                    Transaction.station_id == event.station_id, Transaction.start_key == key
                )
            ).first()
            if tx is not None:
                return tx
            tx = self._create(event, ref=key, start_key=key)
            tx.transaction_ref = str(tx.id)
            self.session.add(tx)
            self.session.flush()
            self._by_ref[(tx.station_id, tx.transaction_ref)] = tx
        else:
            found = self.find(event.station_id, event.transaction_ref)
            if found is not None and is_resent(found.last_seq_no, event.seq_no):
                return found
            tx = found or self._create(event, ref=event.transaction_ref)
            self._advance(tx, event)
        if tx.started_at is None or as_utc(tx.started_at) > event.timestamp:
            tx.started_at = event.timestamp
        if tx.meter_start_wh is None:
            tx.meter_start_wh = event.meter_start_wh
        self._collect(tx, event.evse_id, event.samples)
        return tx

    def update(self, event: TransactionUpdated) -> Transaction:
        """Record progress; an unknown transaction (queued offline) is created, not lost."""
        found = self.find(event.station_id, event.transaction_ref)
        if found is not None and is_resent(found.last_seq_no, event.seq_no):
            return found
        tx = found or self._create(event, ref=event.transaction_ref)
        self._advance(tx, event)
        self._collect(tx, event.evse_id, event.samples)
        return tx

    def end(self, event: TransactionEnded) -> Transaction:
        """Close the transaction and compute its energy; a resent end changes nothing."""
        found = self.find(event.station_id, event.transaction_ref)
        if found is not None and (
            is_resent(found.last_seq_no, event.seq_no)
            or (found.state == ENDED and event.seq_no is None)
        ):
            return found
        tx = found or self._create(event, ref=event.transaction_ref)
        self._advance(tx, event)
        tx.state = ENDED
        tx.ended_at = event.timestamp
        tx.meter_stop_wh = event.meter_stop_wh
        tx.stop_reason = event.stop_reason
        self._collect(tx, event.evse_id, event.samples)
        self.write_samples()
        tx.energy_wh = energy_wh(tx.meter_start_wh, tx.meter_stop_wh, self.register(tx))
        self.session.add(tx)
        return tx

    def meter(self, event: MeterSampled) -> None:
        """Keep samples, tied to the named transaction or the one active on the EVSE."""
        tx_id: int | None
        key = (event.station_id, event.transaction_ref or "")
        if key in self._meter_tx and key not in self._by_ref:
            tx_id = self._meter_tx[key]
        elif event.transaction_ref is not None:
            tx = self.find(event.station_id, event.transaction_ref)
            tx_id = tx.id if tx else None
        else:
            tx_id = self.active_on(event.station_id, event.evse_id)
        self._rows.extend(_row(tx_id, event.station_id, event.evse_id, s) for s in event.samples)

    def write_samples(self) -> int:
        """Insert the collected samples (COPY on PostgreSQL, executemany elsewhere)."""
        rows, self._rows = self._rows, []
        if rows:
            self.session.flush()
            connection = self.session.connection()
            if connection.dialect.name == "postgresql":
                _copy_rows(connection.connection.driver_connection, rows)
            else:
                table = MeterSampleRow.__table__  # type: ignore[attr-defined]
                self.session.execute(insert(table), rows)
        return len(rows)

    def register(self, tx: Transaction) -> list[MeterSample]:
        """The transaction's energy register readings."""
        rows = self.session.exec(
            select(MeterSampleRow).where(
                MeterSampleRow.transaction_id == tx.id, MeterSampleRow.measurand == ENERGY_REGISTER
            )
        )
        return [to_sample(r) for r in rows]

    # -- helpers ----------------------------------------------------------------------------

    def _create(
        self,
        event: TransactionStarted | TransactionUpdated | TransactionEnded,
        *,
        ref: str,
        start_key: str | None = None,
    ) -> Transaction:
        tx = Transaction(
            transaction_ref=ref,
            start_key=start_key,
            station_id=event.station_id,
            evse_id=event.evse_id,
            connector_id=event.connector_id,
            id_token=event.id_token.value if event.id_token else None,
            started_at=event.timestamp,
            last_seq_no=event.seq_no,
        )
        self.session.add(tx)
        self.session.flush()
        self._by_ref[(tx.station_id, tx.transaction_ref)] = tx
        return tx

    def _advance(
        self, tx: Transaction, event: TransactionStarted | TransactionUpdated | TransactionEnded
    ) -> None:
        if event.seq_no is not None:
            tx.last_seq_no = max(event.seq_no, tx.last_seq_no or 0)
        tx.evse_id = tx.evse_id if tx.evse_id is not None else event.evse_id
        tx.connector_id = tx.connector_id if tx.connector_id is not None else event.connector_id
        if tx.id_token is None and event.id_token is not None:
            tx.id_token = event.id_token.value
        if event.remote_start_id is not None:
            link(self.session, tx, event.remote_start_id)
        self.session.add(tx)

    def _collect(
        self, tx: Transaction, evse_id: int | None, samples: Iterable[MeterSample]
    ) -> None:
        evse = evse_id if evse_id is not None else tx.evse_id or 0
        self._rows.extend(_row(tx.id, tx.station_id, evse, s) for s in samples)


_MISSING = Transaction(transaction_ref="", station_id="")


def _ref_in(refs: set[tuple[str, str]]) -> ColumnElement[bool]:
    pair = tuple_(col(Transaction.station_id), col(Transaction.transaction_ref))
    return pair.in_(list(refs))


SAMPLE_COLUMNS = (
    # meter_samples' columns in the order of a COPY (PostgreSQL's bulk path)
    "transaction_id",
    "station_id",
    "evse_id",
    "timestamp",
    "measurand",
    "phase",
    "value",
    "unit",
    "context",
)
SAMPLES_COPY = f"COPY meter_samples ({', '.join(SAMPLE_COLUMNS)}) FROM STDIN"


def _copy_rows(driver_connection: Any, rows: list[dict[str, Any]]) -> None:
    """Stream ``rows`` with COPY (psycopg 3): far cheaper than one INSERT per row."""
    with driver_connection.cursor() as cursor, cursor.copy(SAMPLES_COPY) as copy:
        for row in rows:
            copy.write_row(tuple(row[c] for c in SAMPLE_COLUMNS))


def _row(tx_id: int | None, station_id: str, evse_id: int, sample: MeterSample) -> dict[str, Any]:
    return {
        "transaction_id": tx_id,
        "station_id": station_id,
        "evse_id": evse_id,
        "timestamp": sample.timestamp,
        "measurand": sample.measurand,
        "phase": sample.phase,
        "value": sample.value,
        "unit": sample.unit,
        "context": sample.context,
    }


def to_sample(row: MeterSampleRow) -> MeterSample:
    return MeterSample(
        timestamp=as_utc(row.timestamp),
        measurand=row.measurand,
        value=row.value,
        unit=row.unit,
        phase=row.phase,
        context=row.context,
    )


def samples_of(session: Session, transaction_id: int) -> list[MeterSample]:
    """Every sample of a transaction, oldest first."""
    rows = session.exec(
        select(MeterSampleRow)
        .where(MeterSampleRow.transaction_id == transaction_id)
        .order_by(col(MeterSampleRow.timestamp), col(MeterSampleRow.id))
    )
    return [to_sample(r) for r in rows]
