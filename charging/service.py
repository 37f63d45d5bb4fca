"""``ChargingCore``: the station events' handler, on a database.

``handle(event, now=...)`` runs one database transaction per call and returns the decision the
version adapter turns into the reply (see ``charging.outcomes``). Heartbeats only touch memory
(``flush_presence`` writes last-seen times in one batch). Unique constraints settle races: a
handler that loses one (two copies of a StartTransaction at once) retries and finds the row the
winner wrote. ``handle_batch`` applies many meter events in one transaction for the group-commit
writer of ``charging.async_core``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import bindparam, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from charging import events as ev
from charging import registry
from charging.authorization import authorize
from charging.data_transfer import DataTransferRegistry
from charging.errors import UnknownStation
from charging.ledger import Ledger, LookupCache
from charging.outcomes import (
    Acknowledged,
    AuthorizationDecision,
    AuthorizationStatus,
    BootDecision,
    ClockDecision,
    Decision,
    RegistrationStatus,
    TransactionDecision,
)
from charging.passwords import StationPasswords
from charging.presence import Presence
from charging.records import set_connector, token_record
from charging.registry import StationCredentials
from charging.tables import (
    SecurityEventRow,
    Station,
)
from common.clock import as_utc

T = TypeVar("T")

RETRIES = 5
BATCHED = (ev.MeterSampled, ev.TransactionUpdated)


class ChargingCore:
    """The transaction core on ``engine`` (SQLite or PostgreSQL, migrated).

    ``heartbeat_interval`` answers an accepted BootNotification; ``retry_interval`` a pending
    or rejected one (seconds). ``passwords`` hashes station passwords (Argon2id by default).
    ``data_transfers`` answers stations' DataTransfer requests (``UnknownVendorId`` for every
    vendor until someone registers a handler).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        heartbeat_interval: int = 300,
        retry_interval: int = 60,
        passwords: StationPasswords | None = None,
        data_transfers: DataTransferRegistry | None = None,
    ) -> None:
        self.engine = engine
        self.data_transfers = data_transfers or DataTransferRegistry()
        self.heartbeat_interval = heartbeat_interval
        self.retry_interval = retry_interval
        self.passwords = passwords or StationPasswords()
        self.presence = Presence()
        self.lookups = LookupCache()

    # -- events -----------------------------------------------------------------------------

    def handle(self, event: ev.Event, *, now: datetime) -> Decision:
        """Decide on one station event, in one database transaction (none for heartbeats)."""
        self.presence.touch(event.station_id, now)
        if isinstance(event, ev.HeartbeatReceived):
            return ClockDecision(now)

        def work(session: Session) -> Decision:
            ledger = Ledger(session)
            decision = self._apply(session, ledger, event, now)
            ledger.write_samples()
            return decision

        return self._run(work)

    def heartbeat(self, event: ev.HeartbeatReceived, now: datetime) -> ClockDecision:
        """``handle`` for a Heartbeat (1.6 4.6, 2.0.1 G02): note presence, answer the time."""
        self.presence.touch(event.station_id, now)
        return ClockDecision(now)

    def handle_batch(self, items: Sequence[tuple[ev.Event, datetime]]) -> list[Decision]:
        """Apply ``items`` (typically MeterSampled / TransactionUpdated) in one transaction,
        in order; all commit together or none does."""
        for event, now in items:
            self.presence.touch(event.station_id, now)

        def work(session: Session) -> list[Decision]:
            ledger = Ledger(session, self.lookups)
            ledger.prefetch([event for event, _ in items])
            decisions = [self._apply(session, ledger, event, now) for event, now in items]
            ledger.write_samples()
            return decisions

        return self._run(work)

    def _apply(self, session: Session, ledger: Ledger, event: ev.Event, now: datetime) -> Decision:
        if isinstance(event, ev.StationBooted):
            return self._booted(session, event, now)
        if not ledger.station_known(event.station_id):
            _station(session, event.station_id)
            ledger.known_stations.add(event.station_id)
        if isinstance(event, ev.MeterSampled):
            ledger.meter(event)
            return Acknowledged()
        if isinstance(event, ev.TransactionUpdated):
            ledger.update(event)
            return self._transaction_decision(session, event.station_id, event.id_token, None, now)
        if isinstance(event, ev.HeartbeatReceived):
            return ClockDecision(now)
        if isinstance(event, ev.DataTransferReceived):
            return self.data_transfers.decide(event)
        if isinstance(event, ev.AuthorizationRequested):
            if _station(session, event.station_id).pending:
                return AuthorizationDecision(AuthorizationStatus.INVALID)
            record = token_record(session, event.id_token.value)
            return authorize(record, now=now, station_id=event.station_id)
        if isinstance(event, ev.TransactionStarted):
            tx = ledger.start(event)
            tx_id = tx.id if event.transaction_ref is None else None
            return self._transaction_decision(session, event.station_id, event.id_token, tx_id, now)
        if isinstance(event, ev.TransactionEnded):
            ledger.end(event)
            return self._transaction_decision(session, event.station_id, event.id_token, None, now)
        if isinstance(event, ev.ConnectorStatusChanged):
            set_connector(session, event, now)
        elif isinstance(event, ev.SecurityEventRaised):
            session.add(
                SecurityEventRow(
                    station_id=event.station_id,
                    type=event.type,
                    timestamp=event.timestamp,
                    tech_info=event.tech_info,
                    received_at=now,
                )
            )
        return Acknowledged()

    def _booted(self, session: Session, event: ev.StationBooted, now: datetime) -> BootDecision:
        """BootNotification (2.0.1 B01-B03): Accepted for registered stations, Pending while an
        admin has not approved an auto-registered one, Rejected for unknown ones."""
        station = session.get(Station, event.station_id)
        if station is None:
            return BootDecision(RegistrationStatus.REJECTED, self.retry_interval, now)
        station.vendor = event.vendor
        station.model = event.model
        station.serial_number = event.serial_number
        station.firmware_version = event.firmware_version
        station.last_seen_at = now
        station.online = True
        session.add(station)
        if station.pending:
            return BootDecision(RegistrationStatus.PENDING, self.retry_interval, now)
        return BootDecision(RegistrationStatus.ACCEPTED, self.heartbeat_interval, now)

    def _transaction_decision(
        self,
        session: Session,
        station_id: str,
        token: ev.IdToken | None,
        tx_id: int | None,
        now: datetime,
    ) -> TransactionDecision:
        if token is None:
            return TransactionDecision(tx_id)
        record = token_record(session, token.value)
        return TransactionDecision(tx_id, authorize(record, now=now, station_id=station_id))

    # -- presence ---------------------------------------------------------------------------

    def flush_presence(self) -> int:
        """Write the last-seen times gathered since the last flush, in one statement."""
        dirty = self.presence.take()
        if not dirty:
            return 0
        table = Station.__table__  # type: ignore[attr-defined]
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("station"),
                or_(table.c.last_seen_at.is_(None), table.c.last_seen_at < bindparam("at")),
            )
            .values(last_seen_at=bindparam("at"))
        )
        rows = [{"station": station_id, "at": at} for station_id, at in dirty.items()]
        try:
            with self.engine.begin() as connection:
                connection.execute(statement, rows)
        except Exception:
            self.presence.restore(dirty)
            raise
        return len(rows)

    def mark_online(
        self, station_id: str, ocpp_version: str, *, now: datetime, node: str | None = None
    ) -> None:
        """The gateway (of edge ``node``) accepted a connection speaking ``ocpp_version``."""
        self._set_online(station_id, now, online=True, ocpp_version=ocpp_version, node=node)

    def mark_offline(self, station_id: str, *, now: datetime, node: str | None = None) -> None:
        """The connection on ``node`` closed: offline, unless another node holds it now (one
        conditional UPDATE, so a takeover committed meanwhile is never overwritten)."""
        if node is None:
            self._set_online(station_id, now, online=False)
            return
        table = Station.__table__  # type: ignore[attr-defined]
        statement = (
            update(table)
            .where(
                table.c.id == station_id,
                or_(table.c.edge_node == node, table.c.edge_node.is_(None)),
            )
            .values(online=False, edge_node=None)
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    def clear_presence(self, *, nodes: Iterable[str] | None = None) -> int:
        """Mark offline the stations held by ``nodes`` (every station when None): what an edge
        held before a crash, or nodes whose liveness expired. Returns how many."""
        table = Station.__table__  # type: ignore[attr-defined]
        statement = update(table).values(online=False, edge_node=None)
        if nodes is None:
            statement = statement.where(
                or_(table.c.online.is_(True), table.c.edge_node.is_not(None))
            )
        else:
            wanted = list(nodes)
            if not wanted:
                return 0
            statement = statement.where(table.c.edge_node.in_(wanted))
        with self.engine.begin() as connection:
            return int(connection.execute(statement).rowcount or 0)

    def holding_nodes(self) -> set[str]:
        """The edge nodes recorded as holding some station."""
        table = Station.__table__  # type: ignore[attr-defined]
        query = select(table.c.edge_node).where(table.c.edge_node.is_not(None)).distinct()
        with self.engine.connect() as connection:
            return {str(row[0]) for row in connection.execute(query)}

    def _set_online(
        self,
        station_id: str,
        now: datetime,
        *,
        online: bool,
        ocpp_version: str | None = None,
        node: str | None = None,
    ) -> None:
        def work(session: Session) -> None:
            station = _station(session, station_id)
            station.online = online
            station.edge_node = node if online else None
            if station.last_seen_at is None or as_utc(station.last_seen_at) < now:
                station.last_seen_at = now
            if ocpp_version is not None:
                station.ocpp_version = ocpp_version
            session.add(station)

        self._run(work)

    # -- station administration -------------------------------------------------------------

    def add_station(
        self, station_id: str, password: str, *, now: datetime, profile: int = 1
    ) -> Station:
        """See ``charging.registry.add_station``."""
        return self._run(
            lambda s: registry.add_station(
                s, station_id, password, passwords=self.passwords, now=now, profile=profile
            ),
            retry=False,
        )

    def register_pending(self, station_id: str, password: str | None, *, now: datetime) -> Station:
        """See ``charging.registry.register_pending``."""
        return self._run(
            lambda s: registry.register_pending(
                s, station_id, password, passwords=self.passwords, now=now
            )
        )

    def approve_station(self, station_id: str, *, now: datetime) -> Station:
        return self._run(lambda s: registry.approve_station(s, station_id, now=now))

    def raise_security_profile(self, station_id: str, profile: int) -> Station:
        return self._run(lambda s: registry.raise_security_profile(s, station_id, profile))

    def verify_station_password(self, station_id: str, password: str) -> StationCredentials | None:
        """The station's recorded profile and pending flag when ``password`` is right."""
        with Session(self.engine) as session:
            return registry.verify_password(session, station_id, password, passwords=self.passwords)

    def station_credentials(self, station_id: str) -> StationCredentials | None:
        """The recorded profile and pending flag, without a password (profile 3 connections)."""
        with Session(self.engine) as session:
            station = session.get(Station, station_id)
            if station is None:
                return None
            return StationCredentials(station.id, station.security_profile, station.pending)

    # -- plumbing ---------------------------------------------------------------------------

    def _run(self, work: Callable[[Session], T], *, retry: bool = True) -> T:
        """Run ``work`` in one transaction; retry when a concurrent writer won a race."""
        for attempt in range(RETRIES if retry else 1):
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    result = work(session)
                    session.commit()
                    return result
            except (IntegrityError, OperationalError):
                if not retry or attempt == RETRIES - 1:
                    raise
                time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")


def add_station(
    engine: Engine,
    station_id: str,
    password: str,
    *,
    now: datetime,
    profile: int = 1,
    passwords: StationPasswords | None = None,
) -> Station:
    """Register a station (for the CLI): see ``charging.registry.add_station``."""
    core = ChargingCore(engine, passwords=passwords)
    return core.add_station(station_id, password, now=now, profile=profile)


def _station(session: Session, station_id: str) -> Station:
    station = session.get(Station, station_id)
    if station is None:
        raise UnknownStation(station_id)
    return station
