"""The charging core's tables (SQLModel): the persistence edge of ``charging``.

Uniqueness that concurrent handlers could break is enforced here, by the database:
one transaction per ``(station_id, transaction_ref)`` and per ``(station_id, start_key)`` (the
fingerprint of an OCPP 1.6 StartTransaction), one connector row per ``(station, evse,
connector)``, one id token per value, one ``id_token_stations`` row per (token, station), one
card grant per (card, station), one local-list state per station.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from common.clock import utcnow


def _utc(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class Station(SQLModel, table=True):
    """A charging station, keyed by its OCPP identity (the ``/ocpp/{station_id}`` path)."""

    __tablename__ = "stations"

    id: str = Field(primary_key=True, max_length=48)
    password_hash: str | None = Field(default=None, max_length=255)
    security_profile: int = Field(default=1, ge=1, le=3)
    vendor: str | None = Field(default=None, max_length=50)
    model: str | None = Field(default=None, max_length=50, index=True)
    serial_number: str | None = Field(default=None, max_length=50)
    firmware_version: str | None = Field(default=None, max_length=50, index=True)
    ocpp_version: str | None = Field(default=None, max_length=16)
    registered_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    last_seen_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    online: bool = Field(default=False, index=True)
    edge_node: str | None = Field(default=None, max_length=64, index=True)
    """The edge node holding the station's live connection (None while offline)."""
    pending: bool = Field(default=False, index=True)
    time_zone: str | None = Field(default=None, max_length=64)
    """IANA zone (``Europe/Berlin``) for maintenance windows; None means UTC."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class Connector(SQLModel, table=True):
    """The last reported status of one connector (``connector_id`` 0 = the whole EVSE)."""

    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("station_id", "evse_id", "connector_id"),)

    id: int | None = Field(default=None, primary_key=True)
    station_id: str = Field(foreign_key="stations.id", max_length=48, index=True)
    evse_id: int
    connector_id: int
    status: str = Field(max_length=20)
    detail: str | None = Field(default=None, max_length=20)
    error_code: str | None = Field(default=None, max_length=50)
    updated_at: datetime = Field(sa_column=_utc())


class Transaction(SQLModel, table=True):
    """A charging session. ``id`` is the OCPP 1.6 transactionId; ``transaction_ref`` is the
    2.0.1 transactionId, or ``str(id)`` for 1.6."""

    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("station_id", "transaction_ref"),
        UniqueConstraint("station_id", "start_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    transaction_ref: str = Field(max_length=64)
    start_key: str | None = Field(default=None, max_length=64)
    station_id: str = Field(foreign_key="stations.id", max_length=48, index=True)
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = Field(default=None, max_length=64, index=True)
    started_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True, index=True))
    ended_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    meter_start_wh: float | None = None
    meter_stop_wh: float | None = None
    energy_wh: float | None = None
    stop_reason: str | None = Field(default=None, max_length=50)
    state: str = Field(default="active", max_length=10, index=True)
    last_seq_no: int | None = None
    # The RequestStartTransaction that started it (``remote_starts.id``) and who asked.
    remote_start_id: int | None = Field(default=None, index=True)
    started_by: str | None = Field(default=None, max_length=120)


class RemoteStart(SQLModel, table=True):
    """One remote start request; ``id`` is the 2.0.1 ``remoteStartId`` it carried (F01/F02),
    unique for the life of the database, so the transaction it starts can be traced back."""

    __tablename__ = "remote_starts"

    id: int | None = Field(default=None, primary_key=True)
    station_id: str = Field(max_length=48, index=True)
    evse_id: int | None = None
    id_token: str = Field(max_length=64)
    requested_by: str = Field(max_length=120)
    requested_at: datetime = Field(sa_column=_utc())


class MeterSampleRow(SQLModel, table=True):
    """One sampled value in its base unit; ``transaction_id`` is empty for clock-aligned data."""

    __tablename__ = "meter_samples"
    __table_args__ = (Index("ix_meter_samples_transaction_time", "transaction_id", "timestamp"),)

    id: int | None = Field(default=None, primary_key=True)
    transaction_id: int | None = Field(default=None, foreign_key="transactions.id")
    station_id: str = Field(foreign_key="stations.id", max_length=48, index=True)
    evse_id: int
    timestamp: datetime = Field(sa_column=_utc())
    measurand: str = Field(max_length=50)
    phase: str | None = Field(default=None, max_length=10)
    value: float
    unit: str = Field(max_length=20)
    context: str | None = Field(default=None, max_length=30)


class IdTokenRow(SQLModel, table=True):
    """An id token (RFID card, app token) the platform authorizes (OCPP 2.0.1 C01)."""

    __tablename__ = "id_tokens"

    id: int | None = Field(default=None, primary_key=True)
    value: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    type: str = Field(default="ISO14443", max_length=20)
    status: str = Field(default="Accepted", max_length=20)
    expires_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    owner_user_id: str | None = Field(default=None, max_length=36, index=True)
    group: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class IdTokenStation(SQLModel, table=True):
    """A station where an id token is valid. A token with no such row is valid at every
    station (fleet-wide); one with rows only at those. Removing the token removes its rows."""

    __tablename__ = "id_token_stations"

    id_token: str = Field(
        sa_column=Column(
            String(64),
            ForeignKey("id_tokens.value", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    station_id: str = Field(primary_key=True, max_length=48)


class SecurityEventRow(SQLModel, table=True):
    """A SecurityEventNotification (1.6 Security Whitepaper, 2.0.1 A04)."""

    __tablename__ = "security_events"

    id: int | None = Field(default=None, primary_key=True)
    station_id: str = Field(foreign_key="stations.id", max_length=48, index=True)
    type: str = Field(max_length=50, index=True)
    timestamp: datetime = Field(sa_column=_utc(index=True))
    tech_info: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class CardGrant(SQLModel, table=True):
    """An RFID card (an ``id_tokens`` row) allowed on one station."""

    __tablename__ = "card_grants"
    __table_args__ = (UniqueConstraint("id_token", "station_serial"),)

    id: int | None = Field(default=None, primary_key=True)
    id_token: str = Field(max_length=64, index=True)
    station_serial: str = Field(foreign_key="devices.serial", index=True, max_length=25)
    registered_by: str = Field(max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class LocalListState(SQLModel, table=True):
    """A station's local authorization list: the platform's version and the one it confirmed."""

    __tablename__ = "local_list_states"

    station_serial: str = Field(primary_key=True, max_length=25)
    version: int = 0
    synced_version: int | None = None


class LocalListChange(SQLModel, table=True):
    """One change of a station's list, numbered by the list version it produced."""

    __tablename__ = "local_list_changes"

    id: int | None = Field(default=None, primary_key=True)
    station_serial: str = Field(index=True, max_length=25)
    version: int
    id_token: str = Field(max_length=64)
    token_type: str = Field(max_length=20)
    added: bool
