"""Revocation state read from the database: the fast ``is_revoked`` cache, CRLs, OCSP status.

``is_revoked`` answers from an in-memory set refreshed every ``REVOCATION_TTL`` seconds (and
updated at once by a revocation in this process), so a revoked certificate fails new
handshakes within seconds without a query per handshake. CRLs (RFC 5280 5) are rebuilt at most
every ``CRL_TTL`` seconds, or at once after a local revocation.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.ca_keys import serial_to_hex
from app.ca_tables import CAMaterial, CertificateStatus, IssuedCertificateRow
from app.clock import as_utc
from pki import CARole, CertStatus, IssuingCA, RevocationReason, RevokedEntry, build_crl, crl_to_der

REVOCATION_TTL = 2.0
"""Seconds a process trusts its cached list of revoked serial numbers."""
CRL_TTL = 30.0
CRL_VALIDITY = timedelta(days=1)


def revoked_entry(row: IssuedCertificateRow) -> RevokedEntry:
    return RevokedEntry(
        serial_number=int(row.serial_hex, 16),
        revoked_at=as_utc(row.revoked_at or row.created_at),
        reason=RevocationReason(row.revocation_reason or RevocationReason.UNSPECIFIED.value),
    )


class RevocationLedger:
    """What is revoked, as the database says, with the caches the gateway needs."""

    def __init__(self, engine: Engine, *, ttl: float = REVOCATION_TTL) -> None:
        self.engine = engine
        self.ttl = ttl
        self._revoked: frozenset[int] = frozenset()
        self._loaded_at = -float("inf")
        self._crls: dict[CARole, tuple[float, bytes]] = {}

    def is_revoked(self, serial: int) -> bool:
        if time.monotonic() - self._loaded_at > self.ttl:
            self.refresh()
        return serial in self._revoked

    def refresh(self) -> None:
        query = select(IssuedCertificateRow.serial_hex).where(
            IssuedCertificateRow.status == CertificateStatus.REVOKED.value
        )
        with Session(self.engine) as session:
            serials = frozenset(int(text, 16) for text in session.exec(query).all())
        self._revoked, self._loaded_at = serials, time.monotonic()

    def note_revoked(self, serial: int, issuer_role: CARole) -> None:
        """A revocation made in this process: effective here at once."""
        self._revoked = self._revoked | {serial}
        self._crls.pop(issuer_role, None)

    def crl_der(self, issuer: IssuingCA, now: datetime) -> bytes:
        cached = self._crls.get(issuer.role)
        if cached is not None and time.monotonic() - cached[0] < CRL_TTL:
            return cached[1]
        query = select(IssuedCertificateRow).where(
            IssuedCertificateRow.issuer_role == issuer.role.value,
            IssuedCertificateRow.status == CertificateStatus.REVOKED.value,
        )
        with Session(self.engine) as session:
            entries = [revoked_entry(row) for row in session.exec(query).all()]
        crl = build_crl(
            issuer,
            entries,
            now=now,
            next_update=now + CRL_VALIDITY,
            crl_number=int(now.timestamp() * 1000),  # grows with every rebuild (RFC 5280 5.2.3)
        )
        der = crl_to_der(crl)
        self._crls[issuer.role] = (time.monotonic(), der)
        return der

    def status_of(self, serial: int) -> CertStatus:
        """OCSP status: good or revoked for what the platform issued (CAs included)."""
        serial_hex = serial_to_hex(serial)
        with Session(self.engine) as session:
            row = session.exec(
                select(IssuedCertificateRow).where(IssuedCertificateRow.serial_hex == serial_hex)
            ).first()
            if row is None:
                ca = session.exec(
                    select(CAMaterial).where(CAMaterial.serial_hex == serial_hex)
                ).first()
                return CertStatus.good() if ca is not None else CertStatus.unknown()
        if row.status == CertificateStatus.REVOKED:
            return CertStatus.revoked_by(revoked_entry(row))
        return CertStatus.good()

    def revoked_stations_since(self, since: datetime) -> tuple[list[str], datetime]:
        """Stations whose certificate was revoked after ``since`` (superseded ones left out)."""
        query = select(IssuedCertificateRow).where(
            col(IssuedCertificateRow.revoked_at) > since,
            col(IssuedCertificateRow.station_id).is_not(None),
            IssuedCertificateRow.revocation_reason != RevocationReason.SUPERSEDED.value,
        )
        with Session(self.engine) as session:
            rows = session.exec(query).all()
        latest = max((as_utc(row.revoked_at) for row in rows if row.revoked_at), default=since)
        return sorted({row.station_id for row in rows if row.station_id}), latest
