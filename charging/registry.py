"""Station registration: adding stations, approving pending ones, their credentials.

Functions take an open SQLModel session and commit nothing; the caller commits (with its
audit entry, in ``app/``). A station's security profile is only ever raised (OCPP 2.0.1 A00:
the CSMS never falls back to a lower profile).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from charging.errors import InvalidStationId, ProfileDowngrade, StationExists, UnknownStation
from charging.passwords import StationPasswords
from charging.tables import Station

# OCPP identity: printable ASCII, no '/', ':' or whitespace (it is a path segment and a
# Basic-auth user name).
_STATION_ID = re.compile(r"[!-.0-9;-~]{1,48}")


@dataclass(frozen=True, slots=True)
class StationCredentials:
    """What the gateway needs after a password check."""

    station_id: str
    security_profile: int
    pending: bool


def check_station_id(station_id: str) -> str:
    if not _STATION_ID.fullmatch(station_id):
        raise InvalidStationId(
            f"a station id has 1-48 printable characters without '/', ':' or spaces: "
            f"{station_id[:60]!r}"
        )
    return station_id


def _check_profile(current: int, requested: int) -> None:
    if requested not in (1, 2, 3) or requested < current:
        raise ProfileDowngrade(current, requested)


def add_station(
    session: Session,
    station_id: str,
    password: str,
    *,
    passwords: StationPasswords,
    now: datetime,
    profile: int = 1,
) -> Station:
    """Register a station an admin vouches for.

    Raises:
        InvalidStationId, InvalidStationPassword, ProfileDowngrade (profile not 1-3),
        StationExists.
    """
    check_station_id(station_id)
    _check_profile(1, profile)
    password_hash = passwords.hash(password)
    if session.get(Station, station_id) is not None:
        raise StationExists(station_id)
    station = Station(
        id=station_id, password_hash=password_hash, security_profile=profile, registered_at=now
    )
    session.add(station)
    session.flush()
    return station


def register_pending(
    session: Session,
    station_id: str,
    password: str | None,
    *,
    passwords: StationPasswords,
    now: datetime,
) -> Station:
    """Record an unknown station that connected while auto-registration is on; it stays
    pending (BootNotification answered Pending) until an admin approves it. The password it
    presented, if any, becomes its password. Idempotent for a station that is still pending.

    Raises:
        InvalidStationId, InvalidStationPassword, StationExists (a registered station).
    """
    check_station_id(station_id)
    existing = session.get(Station, station_id)
    if existing is not None:
        if existing.pending:
            return existing
        raise StationExists(station_id)
    station = Station(
        id=station_id,
        password_hash=passwords.hash(password) if password is not None else None,
        pending=True,
        last_seen_at=now,
    )
    session.add(station)
    session.flush()
    return station


def approve_station(session: Session, station_id: str, *, now: datetime) -> Station:
    """Move a pending station to registered (idempotent). Raises ``UnknownStation``."""
    station = _get(session, station_id)
    if station.pending:
        station.pending = False
        station.registered_at = now
        session.add(station)
    return station


def raise_security_profile(session: Session, station_id: str, profile: int) -> Station:
    """Raise the recorded profile (e.g. to 3 after field enrollment).

    Raises:
        UnknownStation, ProfileDowngrade (lower than recorded, or not 1-3).
    """
    station = _get(session, station_id)
    _check_profile(station.security_profile, profile)
    station.security_profile = profile
    session.add(station)
    return station


def verify_password(
    session: Session, station_id: str, password: str, *, passwords: StationPasswords
) -> StationCredentials | None:
    """The station's credentials when ``password`` is right, else ``None`` (a dummy hash is
    checked for unknown stations, so both answers take the same time)."""
    station = session.get(Station, station_id)
    if not passwords.verify(password, station.password_hash if station else None):
        return None
    assert station is not None
    return StationCredentials(station.id, station.security_profile, station.pending)


def _get(session: Session, station_id: str) -> Station:
    station = session.get(Station, station_id)
    if station is None:
        raise UnknownStation(station_id)
    return station
