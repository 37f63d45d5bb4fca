"""The CA over HTTP: revocation for everyone, CAs and certificates for admins.

Public, unauthenticated (relying parties fetch them): ``GET /pki/crl/{role}.crl`` (DER,
``application/pkix-crl``, RFC 5280 5) and the OCSP responder ``POST /pki/ocsp`` /
``GET /pki/ocsp/{base64}`` (RFC 6960 A.1). Admin: the CAs and their chains, issuing from a CSR
(also ``manufacturing``, for the factory line), listing and revoking certificates, and the
stations' installed certificates (GetInstalledCertificateIds, DeleteCertificate).

A revocation is announced to every process once it commits (``app.ca``), so whichever edge
holds the station closes its open connection.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from app.api.commands import CommandAnswer, dispatch
from app.api.pagination import Page, PageQuery, paginate
from app.ca import (
    CertificateAuthority,
    IssuedCertificate,
)
from app.ca.search import CertificateFilter, certificate_query
from app.ca.tables import CertificateStatus, IssuedCertificateRow
from app.deps import ActorDep, AdminPrincipal, NowDep, PlatformDep, SessionDep, require_role
from app.identity.jwt_tokens import Principal
from app.problems import Problem, not_found
from charging.commands import (
    CertificateHashData,
    CertificateUse,
    DeleteCertificate,
    GetInstalledCertificateIds,
)
from pki import CARole, RevocationReason

router = APIRouter(tags=["pki"])

IssuerPrincipal = Annotated[Principal, Depends(require_role("admin", "manufacturing"))]
PEM = "application/x-pem-file"
MAX_OCSP_REQUEST = 4096


def _invalid_serial(exc: ValueError) -> Problem:
    return Problem(422, "invalid-serial", str(exc))


def _role(text: str) -> CARole:
    try:
        return CARole(text)
    except ValueError:
        raise not_found(f"CA {text[:40]!r}") from None


# -- public revocation endpoints ------------------------------------------------------------


@router.get("/pki/crl/{role}.crl", summary="A CA's current CRL (DER)")
async def crl(role: str, platform: PlatformDep) -> Response:
    ca_role = _role(role)
    der = await run_in_threadpool(platform.ca.crl_der, ca_role)
    return Response(der, media_type="application/pkix-crl", headers={"Cache-Control": "max-age=60"})


def _ocsp(ca: CertificateAuthority, request_der: bytes) -> Response:
    answer = ca.ocsp_response(request_der)
    return Response(answer, media_type="application/ocsp-response")


@router.post("/pki/ocsp", summary="OCSP responder (RFC 6960 A.1, POST)")
async def ocsp_post(request: Request, platform: PlatformDep) -> Response:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/ocsp-request":
        raise Problem(415, "unsupported-media-type", "send an application/ocsp-request body")
    body = await request.body()
    if len(body) > MAX_OCSP_REQUEST:
        raise Problem(413, "too-large", f"OCSP requests are at most {MAX_OCSP_REQUEST} bytes")
    return await run_in_threadpool(_ocsp, platform.ca, body)


@router.get("/pki/ocsp/{encoded:path}", summary="OCSP responder (RFC 6960 A.1, GET)")
async def ocsp_get(encoded: str, platform: PlatformDep) -> Response:
    text = unquote(encoded)
    if len(text) > MAX_OCSP_REQUEST * 2:
        raise Problem(414, "too-large", "OCSP request too long")
    try:
        request_der = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        request_der = b""  # answered malformedRequest, as RFC 6960 2.3 asks
    return await run_in_threadpool(_ocsp, platform.ca, request_der)


# -- CAs -------------------------------------------------------------------------------------


class CAPublic(BaseModel):
    role: str
    subject: str
    serial: str
    not_after: datetime
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")


@router.get("/api/v1/cas", summary="The platform's CAs (admin)", response_model_by_alias=True)
def list_cas(platform: PlatformDep, _admin: AdminPrincipal) -> list[CAPublic]:
    authorities = [platform.ca.authority(role) for role in CARole]
    return [
        CAPublic(
            role=ca.role.value,
            subject=ca.certificate.subject.rfc4514_string(),
            serial=f"{ca.certificate.serial_number:X}",
            not_after=ca.certificate.not_valid_after_utc,
            links={
                "chain": {"href": f"/api/v1/cas/{ca.role.value}/chain.pem"},
                "crl": {"href": f"/pki/crl/{ca.role.value}.crl"},
            },
        )
        for ca in authorities
    ]


@router.get("/api/v1/cas/{role}/chain.pem", summary="A CA's chain up to its root (admin, PEM)")
def ca_chain(role: str, platform: PlatformDep, _admin: AdminPrincipal) -> Response:
    return Response(platform.ca.chain_pem(_role(role)), media_type=PEM)


# -- certificates ----------------------------------------------------------------------------


class IssueBody(BaseModel):
    """A station certificate: ``csr`` + ``station_id``; a user certificate: ``csr`` +
    ``user_id`` + ``station_ids`` (and ``validity_hours``, 24 by default)."""

    model_config = ConfigDict(extra="forbid")
    csr: str = Field(min_length=1, max_length=5500)
    station_id: str | None = Field(default=None, min_length=1, max_length=48)
    user_id: str | None = Field(default=None, min_length=1, max_length=36)
    station_ids: list[str] | None = Field(default=None, max_length=100)
    validity_hours: int = Field(default=24, ge=1, le=7 * 24)


class IssuedPublic(BaseModel):
    serial: str
    certificate_pem: str
    chain_pem: str
    root_pem: str
    not_after: datetime
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")

    @classmethod
    def of(cls, issued: IssuedCertificate) -> IssuedPublic:
        return cls(
            serial=issued.serial_hex,
            certificate_pem=issued.certificate_pem,
            chain_pem=issued.chain_pem,
            root_pem=issued.root_pem,
            not_after=issued.not_after,
            links=_links(issued.serial_hex),
        )


def _links(serial: str) -> dict[str, dict[str, str]]:
    base = f"/api/v1/certificates/{serial}"
    return {"self": {"href": base}, "revoke": {"href": f"{base}/revoke", "method": "POST"}}


@router.post(
    "/api/v1/certificates",
    status_code=201,
    summary="Issue a certificate from a CSR (admin, manufacturing)",
    response_model_by_alias=True,
)
def issue(
    body: IssueBody,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    _issuer: IssuerPrincipal,
) -> IssuedPublic:
    if body.station_id is not None and body.user_id is None and body.station_ids is None:
        issued = platform.ca.issue_station_certificate(
            session, body.csr, station_id=body.station_id, actor=actor, now=now
        )
    elif body.user_id is not None and body.station_ids is not None and not body.station_id:
        issued = platform.ca.issue_user_certificate(
            session,
            body.csr,
            user_id=body.user_id,
            station_ids=body.station_ids,
            validity=timedelta(hours=body.validity_hours),
            actor=actor,
            now=now,
        )
    else:
        raise Problem(
            422,
            "validation-error",
            "give either station_id, or user_id with station_ids",
        )
    return IssuedPublic.of(issued)


class CertificatePublic(BaseModel):
    serial: str
    profile: str
    issuer_role: str
    subject_cn: str
    station_id: str | None
    user_id: str | None
    not_before: datetime
    not_after: datetime
    status: str
    revoked_at: datetime | None
    revocation_reason: str | None
    certificate_pem: str
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")

    @classmethod
    def of(cls, row: IssuedCertificateRow) -> CertificatePublic:
        return cls(
            serial=row.serial_hex,
            profile=row.profile,
            issuer_role=row.issuer_role,
            subject_cn=row.subject_cn,
            station_id=row.station_id,
            user_id=row.user_id,
            not_before=row.not_before,
            not_after=row.not_after,
            status=row.status,
            revoked_at=row.revoked_at,
            revocation_reason=row.revocation_reason,
            certificate_pem=row.certificate_pem,
            links=_links(row.serial_hex),
        )


@router.get(
    "/api/v1/certificates",
    summary="Issued certificates, by station, user, status or serial (admin)",
    response_model_by_alias=True,
)
def list_certificates(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    page: PageQuery,
    now: NowDep,
    station_id: Annotated[str | None, Query(max_length=48)] = None,
    user_id: Annotated[str | None, Query(max_length=36)] = None,
    status: CertificateStatus | None = None,
    serial: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[CertificatePublic]:
    wanted = CertificateFilter(station_id=station_id, user_id=user_id, status=status, serial=serial)
    try:
        query = certificate_query(wanted, now=now)
    except ValueError as exc:
        raise _invalid_serial(exc) from exc
    rows, total, links = paginate(session, query, page, request)
    return Page(
        items=[CertificatePublic.of(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
    )


def _find(ca: CertificateAuthority, session: Session, serial: str) -> IssuedCertificateRow:
    try:
        row = ca.find(session, serial)
    except ValueError as exc:
        raise _invalid_serial(exc) from exc
    if row is None:
        raise not_found("certificate")
    return row


@router.get(
    "/api/v1/certificates/{serial}",
    summary="One issued certificate (admin)",
    response_model_by_alias=True,
)
def get_certificate(
    serial: str, platform: PlatformDep, session: SessionDep, _admin: AdminPrincipal
) -> CertificatePublic:
    return CertificatePublic.of(_find(platform.ca, session, serial))


class RevokeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: RevocationReason = RevocationReason.UNSPECIFIED


@router.post(
    "/api/v1/certificates/{serial}/revoke",
    summary="Revoke a certificate; the station's open connection is closed (admin)",
    response_model_by_alias=True,
)
async def revoke(
    serial: str,
    body: RevokeBody,
    platform: PlatformDep,
    actor: ActorDep,
    now: NowDep,
    _admin: AdminPrincipal,
) -> CertificatePublic:
    def run() -> IssuedCertificateRow:
        with Session(platform.engine, expire_on_commit=False) as session:
            try:
                platform.ca.revoke(session, serial, body.reason, actor=actor, now=now)
            except ValueError as exc:
                raise _invalid_serial(exc) from exc
            session.commit()
            return _find(platform.ca, session, serial)

    return CertificatePublic.of(await run_in_threadpool(run))


# -- certificates installed on a station -----------------------------------------------------


class HashDataBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hash_algorithm: str = Field(pattern="^(SHA256|SHA384|SHA512)$")
    issuer_name_hash: str = Field(min_length=1, max_length=128)
    issuer_key_hash: str = Field(min_length=1, max_length=128)
    serial_number: str = Field(min_length=1, max_length=40)


@router.get(
    "/api/v1/stations/{station_id}/installed-certificates",
    summary="Ask the station which root certificates it holds (admin)",
)
async def installed_certificates(
    station_id: str,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    _admin: AdminPrincipal,
    certificate_type: Annotated[list[CertificateUse] | None, Query()] = None,
) -> CommandAnswer:
    command = GetInstalledCertificateIds(tuple(certificate_type or ()))
    return await dispatch(platform, session, actor, station_id, command)


@router.post(
    "/api/v1/stations/{station_id}/installed-certificates/delete",
    summary="Delete a certificate from the station (admin)",
)
async def delete_installed_certificate(
    station_id: str,
    body: HashDataBody,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    _admin: AdminPrincipal,
) -> CommandAnswer:
    data: dict[str, Any] = body.model_dump()
    command = DeleteCertificate(CertificateHashData(**data))
    return await dispatch(platform, session, actor, station_id, command)
