"""Revocation state read from the database: caches, CRLs, OCSP status, and the announcements.

The database is the truth. ``is_revoked`` answers from an in-memory set refreshed every
``REVOCATION_TTL`` seconds (and updated at once by a revocation committed in this process);
admission does not rely on it but asks the database for the presented serial
(``station_certificate_state``). CRLs (RFC 5280 5) are rebuilt at most every ``CRL_TTL``
seconds, or at once after a local revocation.

Every committed revocation is announced once, whichever process made it: to the listeners
registered in this process, and over Redis pub/sub (``REVOCATIONS_CHANNEL``) when
``CHARGELINE_REDIS_URL`` is set. Edges also poll the database (``revoked_snapshot``), so a lost
announcement delays a cut-off by one poll at most.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.ca.keys import serial_to_hex
from app.ca.tables import CAMaterial, CertificateStatus, IssuedCertificateRow
from common.clock import as_utc
from pki import CARole, CertStatus, IssuingCA, RevocationReason, RevokedEntry, build_crl, crl_to_der

log = logging.getLogger(__name__)

REVOCATION_TTL = 2.0
"""Seconds a process trusts its cached list of revoked serial numbers."""
REVOCATIONS_CHANNEL = "chargeline:revocations"


@dataclass(frozen=True, slots=True)
class Revocation:
    """A committed revocation, as announced to every process."""

    serial_hex: str
    station_id: str | None
    reason: RevocationReason

    @property
    def serial(self) -> int:
        return int(self.serial_hex, 16)

    def to_json(self) -> str:
        return json.dumps(
            {"serial": self.serial_hex, "station_id": self.station_id, "reason": self.reason}
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> Revocation:
        """Raises ValueError (or KeyError/TypeError) on a malformed message."""
        body: dict[str, Any] = json.loads(data)
        station_id = body.get("station_id")
        return cls(
            serial_hex=str(body["serial"]),
            station_id=None if station_id is None else str(station_id),
            reason=RevocationReason(body["reason"]),
        )


RevocationListener = Callable[[Revocation], None]
"""Called after the revocation committed, in whatever thread committed it."""


@dataclass(frozen=True, slots=True)
class StationCertificateState:
    """What the database says about a presented station certificate."""

    revoked: bool
    older_live: tuple[str, ...]  # the station's live certificates issued before this one


class RedisAnnouncer:
    """Publishes committed revocations on ``REVOCATIONS_CHANNEL`` (sync: callers are threads)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: Any = None

    def publish(self, revocations: Sequence[Revocation]) -> None:
        try:
            if self._client is None:
                from redis import Redis

                self._client = Redis.from_url(self.url, socket_timeout=2.0)
            for revocation in revocations:
                self._client.publish(REVOCATIONS_CHANNEL, revocation.to_json())
        except Exception:  # the database poll of every edge still sees it
            log.warning("could not announce a revocation over Redis", exc_info=True)


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

    def station_certificate_state(self, serial: int, station_id: str) -> StationCertificateState:
        """The presented certificate's status and the station's older live ones, fresh from
        the database (one indexed query per profile-3 handshake)."""
        serial_hex = serial_to_hex(serial)
        query = select(IssuedCertificateRow).where(
            (IssuedCertificateRow.serial_hex == serial_hex)
            | (
                (IssuedCertificateRow.station_id == station_id)
                & (IssuedCertificateRow.status == CertificateStatus.ISSUED.value)
            )
        )
        with Session(self.engine) as session:
            rows = session.exec(query).all()
        presented = next((row for row in rows if row.serial_hex == serial_hex), None)
        if presented is None:
            return StationCertificateState(revoked=serial in self._revoked, older_live=())
        if presented.status == CertificateStatus.REVOKED:
            self._revoked = self._revoked | {serial}
            return StationCertificateState(revoked=True, older_live=())
        older = tuple(
            row.serial_hex
            for row in rows
            if row.serial_hex != serial_hex
            and row.station_id == station_id
            and presented.station_id == station_id
            and (row.id or 0) < (presented.id or 0)
        )
        return StationCertificateState(revoked=False, older_live=older)

    def revoked_snapshot(self) -> dict[int, Revocation]:
        """Every revoked certificate, by serial (what an edge's poll compares against)."""
        query = select(
            IssuedCertificateRow.serial_hex,
            IssuedCertificateRow.station_id,
            IssuedCertificateRow.revocation_reason,
        ).where(IssuedCertificateRow.status == CertificateStatus.REVOKED.value)
        with Session(self.engine) as session:
            rows = session.exec(query).all()
        snapshot = {
            int(serial_hex, 16): Revocation(
                serial_hex,
                station_id,
                RevocationReason(reason or RevocationReason.UNSPECIFIED.value),
            )
            for serial_hex, station_id, reason in rows
        }
        self._revoked, self._loaded_at = frozenset(snapshot), time.monotonic()
        return snapshot

    def note_revoked(self, serial: int, issuer_role: CARole) -> None:
        """A revocation committed in this process: effective here at once."""
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
