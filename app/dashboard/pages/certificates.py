"""``/certificates``: the certificates the platform issued, one certificate, revoking it.

The list and the revocation go through the CA service as the REST API and the CLI do
(``app.ca.search.certificate_query``, ``CertificateAuthority.revoke``): a revocation commits,
is announced to every process, and the edge holding the station closes its connection. The
detail page shows the station's connection as a live fragment, so the drop is seen there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import AuthorityInformationAccessOID
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app import audit
from app.ca import AlreadyRevoked, UnknownCertificate
from app.ca.search import CertificateFilter, CertificateState, certificate_query, state_of
from app.ca.tables import IssuedCertificateRow
from app.dashboard.auth import AdminAction, ReadView
from app.dashboard.paging import int_param, page_of, text_param, window
from app.dashboard.render import render
from app.dashboard.session_store import Viewer
from app.db import session_scope
from app.deps import NowDep, PlatformDep, client_address
from app.platform import Platform
from charging.tables import Station
from pki import CARole, RevocationReason

router = APIRouter(include_in_schema=False)

STATES = [("", "any")] + [(state.value, state.value) for state in CertificateState]
REASONS = [(reason.value, reason.value) for reason in RevocationReason]
BADGES = {
    CertificateState.VALID: "ok",
    CertificateState.EXPIRED: "warn",
    CertificateState.REVOKED: "bad",
    CertificateState.SUPERSEDED: "muted",
}
MAX_EXPIRING_DAYS = 3650
DONE = {
    "revoked": "The certificate is revoked: it is refused from now on, and a station "
    "connected with it is disconnected."
}


@dataclass(frozen=True, slots=True)
class Listed:
    row: IssuedCertificateRow
    state: CertificateState

    @property
    def badge(self) -> str:
        return BADGES[self.state]


@router.get("/certificates", response_class=HTMLResponse)
def certificates(
    request: Request, viewer: ReadView, platform: PlatformDep, now: NowDep
) -> Response:
    q = text_param(request, "q", max_length=100)
    station = text_param(request, "station", max_length=48)
    status = text_param(request, "status", max_length=20)
    state = CertificateState(status) if status in CertificateState.__members__.values() else None
    expiring = int_param(request, "expiring", 0, low=0, high=MAX_EXPIRING_DAYS)
    wanted = CertificateFilter(
        text=q or None,
        station_id=station or None,
        state=state,
        expiring_within=timedelta(days=expiring) if expiring else None,
    )
    win = window(request)
    query = certificate_query(wanted, now=now).offset(win.offset).limit(win.limit + 1)
    with Session(platform.engine) as session:
        rows = session.exec(query).all()
    page = page_of(request, [Listed(row, state_of(row, now)) for row in rows], win, total=None)
    return render(
        request,
        "certificates/list.html",
        viewer,
        title="Certificates",
        page=page,
        q=q,
        station=station,
        chosen=state.value if state else "",
        expiring=str(expiring) if expiring else "",
        states=STATES,
    )


@dataclass(frozen=True, slots=True)
class Facts:
    """What the certificate itself says, read from its PEM."""

    subject: str
    issuer: str
    fingerprint: str
    key: str
    alt_names: list[str]
    crl_urls: list[str]
    ocsp_urls: list[str]


def facts_of(pem: str) -> Facts:
    cert = x509.load_pem_x509_certificate(pem.encode())
    der = cert.public_bytes(serialization.Encoding.DER)
    key = cert.public_key()
    size = getattr(key, "key_size", None)
    curve = getattr(getattr(key, "curve", None), "name", None)
    alt: list[str] = []
    crl: list[str] = []
    ocsp: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        alt = [str(name.value) for name in san]
    except x509.ExtensionNotFound:
        pass
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        crl = [str(n.value) for p in points for n in (p.full_name or [])]
    except x509.ExtensionNotFound:
        pass
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        ocsp = [
            str(d.access_location.value)
            for d in access
            if d.access_method == AuthorityInformationAccessOID.OCSP
        ]
    except x509.ExtensionNotFound:
        pass
    return Facts(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        fingerprint=hashlib.sha256(der).hexdigest().upper(),
        key=f"{type(key).__name__.removeprefix('_').replace('PublicKey', '')} "
        f"{curve or size or ''}".strip(),
        alt_names=alt,
        crl_urls=crl,
        ocsp_urls=ocsp,
    )


def _find(platform: Platform, serial: str) -> IssuedCertificateRow | None:
    with Session(platform.engine) as session:
        try:
            return platform.ca.find(session, serial)
        except ValueError:
            return None


def _not_found(request: Request, viewer: Viewer, serial: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        viewer,
        status=404,
        heading="Certificate not found",
        detail=f"No certificate has the serial number {serial[:48]}.",
    )


def _station(platform: Platform, station_id: str | None) -> Station | None:
    if station_id is None:
        return None
    with Session(platform.engine) as session:
        return session.get(Station, station_id)


def _detail(
    request: Request,
    viewer: Viewer,
    platform: Platform,
    row: IssuedCertificateRow,
    now: datetime,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    error: str = "",
    reason: str = RevocationReason.UNSPECIFIED.value,
) -> HTMLResponse:
    role = CARole(row.issuer_role)
    state = state_of(row, now)
    done = DONE.get(text_param(request, "done", max_length=20), "")
    return render(
        request,
        "certificates/detail.html",
        viewer,
        status=status,
        title=f"Certificate {row.serial_hex}",
        cert=row,
        state=state.value,
        badge=BADGES[state],
        facts=facts_of(row.certificate_pem),
        crl_url=platform.ca.crl_url(role),
        ocsp_url=platform.ca.ocsp_url,
        station=_station(platform, row.station_id),
        revocable=state in (CertificateState.VALID, CertificateState.EXPIRED),
        reasons=REASONS,
        reason=reason,
        errors=errors or {},
        error=error,
        done=done,
    )


@router.get("/certificates/{serial}", response_class=HTMLResponse)
def certificate(
    serial: str, request: Request, viewer: ReadView, platform: PlatformDep, now: NowDep
) -> Response:
    row = _find(platform, serial)
    if row is None:
        return _not_found(request, viewer, serial)
    return _detail(request, viewer, platform, row, now)


@router.get("/certificates/{serial}/certificate.pem")
def certificate_pem(
    serial: str, request: Request, viewer: ReadView, platform: PlatformDep
) -> Response:
    row = _find(platform, serial)
    if row is None:
        return _not_found(request, viewer, serial)
    return Response(
        row.certificate_pem,
        media_type="application/x-pem-file",
        headers={"Content-Disposition": f'attachment; filename="{row.serial_hex}.pem"'},
    )


@router.get("/certificates/{serial}/station-state", response_class=HTMLResponse)
def station_state(
    serial: str, request: Request, viewer: ReadView, platform: PlatformDep
) -> Response:
    """The fragment the detail page refreshes on the station's live events."""
    row = _find(platform, serial)
    if row is None:
        return _not_found(request, viewer, serial)
    return render(
        request,
        "certificates/_station_state.html",
        viewer,
        cert=row,
        station=_station(platform, row.station_id),
    )


@router.post("/certificates/{serial}/revoke", response_class=HTMLResponse)
def revoke(
    serial: str,
    request: Request,
    viewer: AdminAction,
    platform: PlatformDep,
    now: NowDep,
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    row = _find(platform, serial)
    if row is None:
        return _not_found(request, viewer, serial)
    errors: dict[str, str] = {}
    if reason not in RevocationReason.__members__.values():
        errors["reason"] = "Choose one of the listed reasons."
    if confirm != "yes":
        errors["confirm"] = "Confirm that the certificate is to be revoked."
    if errors:
        shown = reason if reason in RevocationReason.__members__.values() else ""
        return _detail(request, viewer, platform, row, now, status=422, errors=errors, reason=shown)
    actor = audit.Actor(viewer.actor_name, client_address(request))
    try:
        with session_scope(platform.engine) as session:
            platform.ca.revoke(
                session, row.serial_hex, RevocationReason(reason), actor=actor, now=now
            )
    except AlreadyRevoked:
        current = _find(platform, serial) or row
        when = current.revoked_at.strftime("%Y-%m-%d %H:%M:%S UTC") if current.revoked_at else ""
        message = f"This certificate was already revoked ({current.revocation_reason}, {when})."
        return _detail(request, viewer, platform, current, now, status=409, error=message)
    except UnknownCertificate:
        return _not_found(request, viewer, serial)
    return RedirectResponse(f"/certificates/{row.serial_hex}?done=revoked", status_code=303)
