"""Row-level reads and writes the charging core shares: an id token with its station scope, a
connector's status."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from charging import events as ev
from charging.authorization import TokenRecord
from charging.outcomes import AuthorizationStatus
from charging.tables import Connector, IdTokenRow, IdTokenStation
from common.clock import as_utc


def token_record(session: Session, value: str) -> TokenRecord | None:
    """The token with the stations it is limited to (``id_token_stations``; none = all), in
    one query."""
    rows = session.exec(
        select(IdTokenRow, IdTokenStation.station_id)
        .outerjoin(IdTokenStation, col(IdTokenStation.id_token) == col(IdTokenRow.value))
        .where(IdTokenRow.value == value)
    ).all()
    if not rows:
        return None
    row = rows[0][0]
    stations = frozenset(station for _, station in rows if station is not None)
    return TokenRecord(
        row.value,
        AuthorizationStatus(row.status),
        as_utc(row.expires_at) if row.expires_at else None,
        row.group,
        stations or None,
    )


def set_connector(session: Session, event: ev.ConnectorStatusChanged, now: datetime) -> None:
    connector_id = event.connector_id or 0
    row = session.exec(
        select(Connector).where(
            Connector.station_id == event.station_id,
            Connector.evse_id == event.evse_id,
            col(Connector.connector_id) == connector_id,
        )
    ).first()
    row = row or Connector(
        station_id=event.station_id,
        evse_id=event.evse_id,
        connector_id=connector_id,
        status="",
        updated_at=now,
    )
    row.status = event.status.value
    row.detail = event.detail
    row.error_code = event.error_code
    row.updated_at = event.timestamp or now
    session.add(row)
