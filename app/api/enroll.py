"""Factory enrollment: the line script posts the device's CSR and gets its credentials back.

One call, one transaction: the station CA signs the CSR (CN = the serial), the station record
in the charging core is created or updated (id = serial, a fresh one-time password stored
hashed, security profile 2, never lowered), and the device moves to ``enrolled``. The answer
carries the certificate chain, the platform root, the OCPP endpoints and the password, which
is shown only here. A device already enrolled may enroll again (a lost answer, a re-flashed
key): it gets a new certificate and a new password, and stays ``enrolled``; its older
certificates are revoked at once (reason superseded). The station's
profile is raised to 3 by the gateway once it connects with its certificate.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from app import audit
from app.api.factory import LinePrincipal, domain_errors, mark_enrolled
from app.ca import CANotInitialized, CertificateAuthority, IssuedCertificate
from app.deps import ActorDep, NowDep, PlatformDep, SessionDep
from app.edge import station_passwords
from app.problems import Problem
from app.settings import Settings
from charging import registry
from charging.tables import Station
from common.clock import as_utc
from enrollment import repository
from enrollment.errors import InvalidTransition
from enrollment.identifiers import parse_serial
from enrollment.lifecycle import DeviceState
from pki import CsrRejected

router = APIRouter(prefix="/api/v1", tags=["factory line"])

FACTORY_PROFILE = 2
PASSWORD_LENGTH = 32  # OCPP 2.0.1 A00: 16-40 characters


class EnrollRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    csr: str = Field(min_length=1, max_length=5500, description="PKCS#10 PEM, CN = the serial")


class OcppEndpoints(BaseModel):
    ws: str
    wss: str


class Enrolled(BaseModel):
    serial: str
    state: DeviceState
    certificate_serial: str
    certificate_pem: str
    chain_pem: str
    root_pem: str
    not_after: datetime
    ocpp: OcppEndpoints
    security_profile: int
    station_password: str = Field(description="shown once: store it in the station now")
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")


def ocpp_endpoints(settings: Settings, serial: str) -> OcppEndpoints:
    host = settings.ocpp_host
    return OcppEndpoints(
        ws=f"ws://{host}:{settings.ocpp_port}/ocpp/{serial}",
        wss=f"wss://{host}:{settings.ocpp_tls_port}/ocpp/{serial}",
    )


def set_station_password(session: Session, serial: str, password: str, *, now: datetime) -> int:
    """Create the station record or give it a new password; return its security profile."""
    passwords = station_passwords()
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


@router.post(
    "/devices/{serial}/enroll",
    summary="Factory enrollment: sign the device's CSR, issue its station credentials",
    response_model_by_alias=True,
)
def enroll_device(
    serial: str,
    body: EnrollRequest,
    session: SessionDep,
    platform: PlatformDep,
    _line: LinePrincipal,
    actor: ActorDep,
    now: NowDep,
) -> Enrolled:
    with domain_errors():
        device = repository.get_device(session, parse_serial(serial), for_update=True)
        state = DeviceState(device.state)
        if state not in (DeviceState.REGISTERED, DeviceState.ENROLLED):
            raise InvalidTransition(state, DeviceState.ENROLLED)
    issued = _issue(session, platform.ca, body.csr, device.serial, actor, now)
    # A re-enrollment the line asks for supersedes the device's older certificates at once.
    platform.ca.retire_superseded(session, device.serial, issued.serial_hex, actor=actor, now=now)
    password = secrets.token_urlsafe(PASSWORD_LENGTH)[:PASSWORD_LENGTH]
    profile = set_station_password(session, device.serial, password, now=now)
    with domain_errors():
        mark_enrolled(
            session, device.serial, actor=actor, now=now, certificate_serial=issued.serial_hex
        )
    audit.record(
        session,
        actor,
        "station.password_issued",
        object_type="station",
        object_id=device.serial,
        security_profile=profile,
    )
    session.commit()  # the password is shown once: only after it is durable
    return Enrolled(
        serial=device.serial,
        state=DeviceState.ENROLLED,
        certificate_serial=issued.serial_hex,
        certificate_pem=issued.certificate_pem,
        chain_pem=issued.chain_pem,
        root_pem=issued.root_pem,
        not_after=as_utc(issued.not_after),
        ocpp=ocpp_endpoints(platform.settings, device.serial),
        security_profile=profile,
        station_password=password,
        links={
            "device": {"href": f"/api/v1/devices/{device.serial}"},
            "release": {"href": f"/api/v1/devices/{device.serial}/release"},
        },
    )


def _issue(
    session: Session,
    ca: CertificateAuthority,
    csr: str,
    serial: str,
    actor: audit.Actor,
    now: datetime,
) -> IssuedCertificate:
    try:
        return ca.issue_station_certificate(session, csr, station_id=serial, actor=actor, now=now)
    except CsrRejected as exc:
        raise Problem(
            422, "csr-rejected", f"CSR rejected: {exc.reason}", reason=exc.reason
        ) from exc
    except CANotInitialized as exc:
        raise Problem(503, "ca-not-initialized", str(exc)) from exc
