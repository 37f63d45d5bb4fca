"""Charging stations: registration by admins, approval of pending ones, their security events."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import col, select

from app import audit
from app.api.pagination import Page, PageQuery, paginate
from app.deps import ActorDep, AdminPrincipal, NowDep, PlatformDep, SessionDep
from app.edge import handshake_throttle
from app.problems import not_found
from charging import registry
from charging.passwords import MAX_LENGTH, MIN_LENGTH, StationPasswords
from charging.security_events import SecurityEventFilter, security_event_query
from charging.tables import Connector, Station
from common.clock import as_utc

router = APIRouter(prefix="/api/v1", tags=["stations"])


@cache
def station_passwords() -> StationPasswords:
    return StationPasswords()


class ConnectorPublic(BaseModel):
    evse_id: int
    connector_id: int
    status: str
    detail: str | None
    error_code: str | None
    updated_at: datetime


class StationPublic(BaseModel):
    id: str
    security_profile: int
    pending: bool
    online: bool
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    ocpp_version: str | None
    time_zone: str | None = Field(description="IANA zone of maintenance windows; null: UTC")
    registered_at: datetime | None
    last_seen_at: datetime | None
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")

    @classmethod
    def of(cls, station: Station) -> StationPublic:
        base = f"/api/v1/stations/{station.id}"
        links = {
            "self": {"href": base},
            "transactions": {"href": f"/api/v1/transactions?station_id={station.id}"},
            "commands": {"href": f"{base}/commands"},
            "security_events": {"href": f"/api/v1/security-events?station_id={station.id}"},
        }
        if station.pending:
            links["approve"] = {"href": f"{base}/approve"}
        return cls(
            id=station.id,
            security_profile=station.security_profile,
            pending=station.pending,
            online=station.online,
            vendor=station.vendor,
            model=station.model,
            serial_number=station.serial_number,
            firmware_version=station.firmware_version,
            ocpp_version=station.ocpp_version,
            time_zone=station.time_zone,
            registered_at=station.registered_at,
            last_seen_at=station.last_seen_at,
            links=links,
        )


class StationDetail(StationPublic):
    connectors: list[ConnectorPublic]


class StationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=48)
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)
    security_profile: int = Field(1, ge=1, le=3)


class SecurityEventPublic(BaseModel):
    id: int
    station_id: str
    type: str
    timestamp: datetime
    tech_info: str | None
    received_at: datetime


@router.post(
    "/stations", status_code=201, summary="Register a station (admin)", response_model_by_alias=True
)
def create_station(
    body: StationCreate, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep, now: NowDep
) -> StationDetail:
    station = registry.add_station(
        session,
        body.id,
        body.password,
        passwords=station_passwords(),
        now=now,
        profile=body.security_profile,
    )
    audit.record(
        session,
        actor,
        "station.add",
        object_type="station",
        object_id=station.id,
        security_profile=station.security_profile,
    )
    return _detail(session, station)


@router.get("/stations", summary="Stations, filtered (admin)", response_model_by_alias=True)
def list_stations(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    page: PageQuery,
    online: bool | None = None,
    pending: bool | None = None,
    model: Annotated[str | None, Query(max_length=50)] = None,
    firmware_version: Annotated[str | None, Query(max_length=50)] = None,
) -> Page[StationPublic]:
    query = select(Station).order_by(col(Station.id))
    if online is not None:
        query = query.where(Station.online == online)
    if pending is not None:
        query = query.where(Station.pending == pending)
    if model is not None:
        query = query.where(Station.model == model)
    if firmware_version is not None:
        query = query.where(Station.firmware_version == firmware_version)
    rows, total, links = paginate(session, query, page, request)
    return Page(
        items=[StationPublic.of(s) for s in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
    )


@router.get(
    "/stations/{station_id}", summary="A station with its connectors", response_model_by_alias=True
)
def get_station(station_id: str, session: SessionDep, _admin: AdminPrincipal) -> StationDetail:
    station = session.get(Station, station_id)
    if station is None:
        raise not_found("station")
    return _detail(session, station)


@router.post(
    "/stations/{station_id}/approve",
    summary="Accept an auto-registered station (admin)",
    response_model_by_alias=True,
)
def approve_station(
    station_id: str, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep, now: NowDep
) -> StationDetail:
    was_pending = bool(getattr(session.get(Station, station_id), "pending", False))
    station = registry.approve_station(session, station_id, now=now)
    if was_pending:
        audit.record(session, actor, "station.approve", object_type="station", object_id=station.id)
    return _detail(session, station)


class TimeZoneUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_zone: str | None = Field(max_length=64, examples=["Europe/Berlin"])

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None and zone not in available_timezones():
            raise ValueError(f"{zone!r} is not an IANA time zone (e.g. Europe/Berlin)")
        return zone


@router.put(
    "/stations/{station_id}/time-zone",
    summary="Set the IANA zone the station's maintenance windows are read in (admin)",
    response_model_by_alias=True,
)
def set_time_zone(
    station_id: str,
    body: TimeZoneUpdate,
    session: SessionDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
) -> StationDetail:
    station = session.get(Station, station_id)
    if station is None:
        raise not_found("station")
    before, station.time_zone = station.time_zone, body.time_zone
    session.add(station)
    audit.record(
        session,
        actor,
        "station.time_zone",
        object_type="station",
        object_id=station_id,
        before=before,
        after=body.time_zone,
    )
    session.commit()
    return _detail(session, station)


class CredentialsUnlocked(BaseModel):
    cleared: int = Field(description="failed-handshake counters cleared")


@router.post(
    "/stations/{station_id}/unlock-credentials",
    summary="Clear the station's failed-handshake counts from every address (admin)",
)
def unlock_station_credentials(
    station_id: str,
    platform: PlatformDep,
    session: SessionDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
) -> CredentialsUnlocked:
    if session.get(Station, station_id) is None:
        raise not_found("station")
    cleared = handshake_throttle().unlock(platform.engine, station_id, actor=actor)
    return CredentialsUnlocked(cleared=cleared)


@router.get(
    "/security-events", summary="Stations' security events (admin)", response_model_by_alias=True
)
def list_security_events(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    page: PageQuery,
    station_id: Annotated[str | None, Query(max_length=48)] = None,
    type: Annotated[str | None, Query(max_length=50)] = None,  # noqa: A002 - the OCPP field
    since: datetime | None = None,
) -> Page[SecurityEventPublic]:
    wanted = SecurityEventFilter(
        station_id=station_id, type=type, since=None if since is None else as_utc(since)
    )
    query = security_event_query(wanted)
    rows, total, links = paginate(session, query, page, request)
    return Page(
        items=[SecurityEventPublic.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
    )


def _detail(session: SessionDep, station: Station) -> StationDetail:
    connectors = session.exec(
        select(Connector)
        .where(Connector.station_id == station.id)
        .order_by(col(Connector.evse_id), col(Connector.connector_id))
    ).all()
    public = StationPublic.of(station)
    return StationDetail(
        **public.model_dump(),
        connectors=[ConnectorPublic.model_validate(c, from_attributes=True) for c in connectors],
    )
