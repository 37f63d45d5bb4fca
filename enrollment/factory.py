"""Factory enrollment: the line posts the device's CSR and gets its station credentials.

One transaction (the caller commits): the station CA signs the CSR (CN = the serial), older
certificates of the device are retired at once (reason superseded), the station record in the
charging core is created or updated (id = serial, a fresh one-time password stored hashed,
security profile 2, never lowered) and the device moves to ``enrolled``. A device already
enrolled may enroll again (a lost answer, a re-flashed key) and stays ``enrolled``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from charging import registry
from charging.passwords import StationPasswords
from charging.tables import Station
from enrollment import repository, service
from enrollment.errors import InvalidTransition
from enrollment.identifiers import parse_serial
from enrollment.lifecycle import DeviceState
from enrollment.ports import AuditTrail, CertificateIssuer, IssuedStationCertificate

FACTORY_PROFILE = 2
PASSWORD_LENGTH = 32  # OCPP 2.0.1 A00: 16-40 characters


@dataclass(frozen=True, slots=True)
class OcppEndpoints:
    """Where the station connects: profile 1 (ws) and profiles 2 and 3 (wss)."""

    ws: str
    wss: str


def ocpp_endpoints(serial: str, *, host: str, port: int, tls_port: int) -> OcppEndpoints:
    return OcppEndpoints(
        ws=f"ws://{host}:{port}/ocpp/{serial}", wss=f"wss://{host}:{tls_port}/ocpp/{serial}"
    )


@dataclass(frozen=True, slots=True)
class FactoryEnrollment:
    """What the line gets back; ``station_password`` is shown only here."""

    serial: str
    certificate: IssuedStationCertificate
    security_profile: int
    station_password: str


def set_station_password(
    session: Session, serial: str, password: str, *, passwords: StationPasswords, now: datetime
) -> int:
    """Create the station record or give it a new password; return its security profile."""
    station = session.get(Station, serial)
    if station is None:
        station = registry.add_station(
            session, serial, password, passwords=passwords, now=now, profile=FACTORY_PROFILE
        )
        return station.security_profile
    station.password_hash = passwords.hash(password)
    station.pending = False
    station.registered_at = station.registered_at or now
    session.add(station)
    if station.security_profile < FACTORY_PROFILE:
        registry.raise_security_profile(session, serial, FACTORY_PROFILE)
    return station.security_profile


def enroll_device(
    session: Session,
    serial: str,
    csr_pem: str,
    *,
    issuer: CertificateIssuer,
    passwords: StationPasswords,
    actor: Any,
    now: datetime,
    audit: AuditTrail,
) -> FactoryEnrollment:
    """Sign the device's CSR and issue its station credentials; the caller commits.

    Raises:
        InvalidSerial, UnknownDevice, InvalidTransition (not registered or enrolled),
        pki.CsrRejected and whatever the issuer raises when it cannot sign.
    """
    device = repository.get_device(session, parse_serial(serial), for_update=True)
    state = DeviceState(device.state)
    if state not in (DeviceState.REGISTERED, DeviceState.ENROLLED):
        raise InvalidTransition(state, DeviceState.ENROLLED)
    issued = issuer.issue_station_certificate(
        session, csr_pem, station_id=device.serial, actor=actor, now=now
    )
    # A re-enrollment the line asks for supersedes the device's older certificates at once.
    issuer.retire_superseded(session, device.serial, issued.serial_hex, actor=actor, now=now)
    password = secrets.token_urlsafe(PASSWORD_LENGTH)[:PASSWORD_LENGTH]
    profile = set_station_password(session, device.serial, password, passwords=passwords, now=now)
    service.mark_enrolled(
        session,
        device.serial,
        actor=actor,
        now=now,
        audit=audit,
        certificate_serial=issued.serial_hex,
    )
    audit(
        session,
        actor,
        "station.password_issued",
        object_type="station",
        object_id=device.serial,
        security_profile=profile,
    )
    return FactoryEnrollment(device.serial, issued, profile, password)
