"""Factory enrollment: the line script posts the device's CSR and gets its credentials back.

The service is ``enrollment.factory.enroll_device``: one transaction, committed before the
answer, which carries the certificate chain, the platform root, the OCPP endpoints and the
password, shown only here. The station's profile is raised to 3 by the gateway once it connects
with its certificate.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app import audit
from app.api.factory import LinePrincipal
from app.deps import ActorDep, NowDep, PlatformDep, SessionDep
from app.edge import station_passwords
from common.clock import as_utc
from enrollment import factory
from enrollment.lifecycle import DeviceState

router = APIRouter(prefix="/api/v1", tags=["factory line"])


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
    enrolled = factory.enroll_device(
        session,
        serial,
        body.csr,
        issuer=platform.ca,
        passwords=station_passwords(),
        actor=actor,
        now=now,
        audit=audit.record,
    )
    session.commit()  # the password is shown once: only after it is durable
    issued, settings = enrolled.certificate, platform.settings
    endpoints = factory.ocpp_endpoints(
        enrolled.serial,
        host=settings.ocpp_host,
        port=settings.ocpp_port,
        tls_port=settings.ocpp_tls_port,
    )
    return Enrolled(
        serial=enrolled.serial,
        state=DeviceState.ENROLLED,
        certificate_serial=issued.serial_hex,
        certificate_pem=issued.certificate_pem,
        chain_pem=issued.chain_pem,
        root_pem=issued.root_pem,
        not_after=as_utc(issued.not_after),
        ocpp=OcppEndpoints(ws=endpoints.ws, wss=endpoints.wss),
        security_profile=enrolled.security_profile,
        station_password=enrolled.station_password,
        links={
            "device": {"href": f"/api/v1/devices/{enrolled.serial}"},
            "release": {"href": f"/api/v1/devices/{enrolled.serial}/release"},
        },
    )
