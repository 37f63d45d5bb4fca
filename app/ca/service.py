"""The platform's CA service: ``pki`` hierarchies kept in the database, issuance, revocation.

DESIGN.md "PKI". The hierarchies and their sealed keys are ``app.ca.hierarchy``, issuance is
``app.ca.issuance``; this module adds revocation and the profile-3 admission check. CA private
keys are sealed with a key-encryption key before they are stored: a local 256-bit key in
``<ca_dir>/kek`` (mode 0600) by default, AWS KMS envelope encryption when
``CHARGELINE_KMS_KEY_ID`` is set (``app.ca.keys``).

Revocation has one path, whoever revokes (REST on any process, the CLI, the gateway itself):
``revoke`` writes the database, and once that transaction commits the revocation is announced
to this process's ``listeners`` and over Redis (``app.ca.revocation``). Admission asks the
database about the presented serial on every profile-3 handshake, so no cache window lets a
revoked certificate in; the edges close open sessions (``app.ca.revocation_watch``).

A new station certificate supersedes the older ones (RFC 5280 reason superseded): when the
station first connects with it (``check_station_certificate``), or at once where the caller
asks (``retire_superseded``, factory re-enrollment).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography import x509
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app import audit
from app.ca.errors import AlreadyRevoked, UnknownCertificate
from app.ca.issuance import CertificateIssuance
from app.ca.keys import normalise_serial, serial_to_hex
from app.ca.revocation import (
    RedisAnnouncer,
    Revocation,
    RevocationLedger,
    RevocationListener,
)
from app.ca.tables import CertificateStatus, IssuedCertificateRow
from app.settings import Settings
from common.clock import as_utc, utcnow
from pki import (
    STATION,
    CARole,
    CertificateRevoked,
    ChainInvalid,
    IssuingCA,
    KeyEncryptor,
    RevocationReason,
    VerifiedClient,
    answer_ocsp,
    verify_client_certificate,
)

log = logging.getLogger(__name__)

_PENDING = "chargeline.revocations"

VERIFIED_CLIENTS = 100_000
"""Client certificates whose chain check is remembered (by SHA-256 of the DER), least recently
presented dropped first; a fleet reconnecting after an outage fits."""


class CertificateAuthority(CertificateIssuance):
    """The operator and manufacturer hierarchies, their issuance and revocation."""

    def __init__(
        self,
        platform_settings: Settings,
        engine: Engine,
        *,
        encryptor: KeyEncryptor | None = None,
    ) -> None:
        super().__init__(platform_settings, engine, encryptor=encryptor)
        self.listeners: list[RevocationListener] = []
        self.announcer = (
            RedisAnnouncer(platform_settings.redis_url) if platform_settings.redis_url else None
        )
        self.ledger = RevocationLedger(engine)
        self._verified: OrderedDict[bytes, VerifiedClient] = OrderedDict()
        self._verified_lock = threading.Lock()

    # -- revocation --------------------------------------------------------------------------

    def revoke(
        self,
        session: Session,
        serial_hex: str,
        reason: RevocationReason,
        *,
        actor: audit.Actor,
        now: datetime,
        **detail: Any,
    ) -> None:
        """Revoke an issued certificate (commits with ``session``; announced after the commit).

        Raises:
            ValueError (not hex), UnknownCertificate, AlreadyRevoked.
        """
        row = self.find(session, serial_hex)
        if row is None:
            raise UnknownCertificate(serial_hex)
        if row.status == CertificateStatus.REVOKED:
            raise AlreadyRevoked(row.serial_hex)
        row.status = CertificateStatus.REVOKED.value
        row.revoked_at = now
        row.revocation_reason = reason.value
        session.add(row)
        audit.record(
            session,
            actor,
            "pki.certificate_revoked",
            object_type="certificate",
            object_id=row.serial_hex,
            reason=reason.value,
            station_id=row.station_id,
            user_id=row.user_id,
            **detail,
        )
        self._announce_after_commit(
            session, Revocation(row.serial_hex, row.station_id, reason), CARole(row.issuer_role)
        )

    def _announce_after_commit(
        self, session: Session, revocation: Revocation, role: CARole
    ) -> None:
        pending: list[tuple[Revocation, CARole]] | None = session.info.get(_PENDING)
        if pending is None:
            pending = session.info[_PENDING] = []

            def committed(_session: object) -> None:
                self.announce(session.info.pop(_PENDING, []))

            def rolled_back(_session: object, *_: object) -> None:
                session.info.pop(_PENDING, None)
                event.remove(session, "after_commit", committed)
                event.remove(session, "after_soft_rollback", rolled_back)

            event.listen(session, "after_commit", committed, once=True)
            event.listen(session, "after_soft_rollback", rolled_back, once=True)
        pending.append((revocation, role))

    def announce(self, revocations: Sequence[tuple[Revocation, CARole]]) -> None:
        """Tell this process's listeners and (over Redis) every other process."""
        for revocation, role in revocations:
            self.ledger.note_revoked(revocation.serial, role)
        for revocation, _ in revocations:
            for listener in list(self.listeners):
                try:
                    listener(revocation)
                except Exception:
                    log.exception("a revocation listener failed")
        if self.announcer is not None and revocations:
            self.announcer.publish([revocation for revocation, _ in revocations])

    def find(self, session: Session, serial_hex: str) -> IssuedCertificateRow | None:
        """The issued certificate with this serial (any hex spelling), if any."""
        wanted = normalise_serial(serial_hex)
        query = select(IssuedCertificateRow).where(IssuedCertificateRow.serial_hex == wanted)
        return session.exec(query).first()

    def is_revoked(self, serial: int) -> bool:
        """Whether ``serial`` is revoked, from a cache at most ``REVOCATION_TTL`` seconds old."""
        return self.ledger.is_revoked(serial)

    def check_station_certificate(self, der: bytes, *, station_id: str, now: datetime) -> None:
        """Re-check a TLS client certificate for security profile 3 (OCPP 2.0.1 A00).

        The chain is verified in full the first time a certificate is seen; after that only
        what can change is checked on every handshake: validity at ``now``, the station it is
        presented for, and revocation, asked of the database for the presented serial. The
        first accepted handshake with a certificate supersedes the station's older ones.

        Raises:
            ChainInvalid: malformed, expired, not yet valid, wrong EKU, foreign CA, or CN
                naming another station; CertificateRevoked. Every refusal is audited.
        """
        serial = ""
        fingerprint = hashlib.sha256(der).digest()
        older: tuple[str, ...] = ()
        leaf = -1

        def is_revoked(number: int) -> bool:
            nonlocal older
            if number != leaf:
                return self.is_revoked(number)
            state = self.ledger.station_certificate_state(number, station_id)
            older = state.older_live
            return state.revoked

        try:
            verified = self._remembered(fingerprint)
            if verified is None:
                try:
                    cert = x509.load_der_x509_certificate(der)
                except ValueError as exc:
                    raise ChainInvalid("malformed DER certificate") from exc
                leaf, serial = cert.serial_number, serial_to_hex(cert.serial_number)
                verify_client_certificate(
                    cert,
                    intermediates=[self.authority(CARole.STATION).certificate],
                    roots=[self.authority(CARole.OPERATOR_ROOT).certificate],
                    now=now,
                    is_revoked=is_revoked,
                    expected_station_id=station_id,
                )
                self._remember(fingerprint, VerifiedClient.of(cert))
            else:
                leaf, serial = verified.serial_number, serial_to_hex(verified.serial_number)
                verified.recheck(now=now, is_revoked=is_revoked, expected_station_id=station_id)
        except (ChainInvalid, CertificateRevoked) as exc:
            actor = audit.Actor(f"station:{station_id}")
            reason = str(exc)
            self.record_refusal(
                actor, "pki.client_certificate_refused", station_id, reason, serial=serial
            )
            raise
        if older:
            self._supersede(station_id, serial, older, now)

    def _supersede(
        self, station_id: str, serial_hex: str, older: Sequence[str], now: datetime
    ) -> None:
        """The station connected with ``serial_hex``: its older certificates are superseded."""
        with Session(self.engine) as session:
            for old in older:
                try:
                    self.revoke(
                        session,
                        old,
                        RevocationReason.SUPERSEDED,
                        actor=audit.Actor(f"station:{station_id}"),
                        now=now,
                        superseded_by=serial_hex,
                    )
                except AlreadyRevoked:  # a concurrent handshake got there first
                    continue
            session.commit()

    def _remembered(self, fingerprint: bytes) -> VerifiedClient | None:
        with self._verified_lock:
            verified = self._verified.get(fingerprint)
            if verified is not None:
                self._verified.move_to_end(fingerprint)
            return verified

    def _remember(self, fingerprint: bytes, verified: VerifiedClient) -> None:
        with self._verified_lock:
            self._verified[fingerprint] = verified
            while len(self._verified) > VERIFIED_CLIENTS:
                self._verified.popitem(last=False)

    def retire_superseded(
        self,
        session: Session,
        station_id: str,
        keep_serial_hex: str,
        *,
        actor: audit.Actor,
        now: datetime,
    ) -> list[str]:
        """Revoke (reason superseded) the station's other live certificates; their serials."""
        query = select(IssuedCertificateRow).where(
            IssuedCertificateRow.station_id == station_id,
            IssuedCertificateRow.status == CertificateStatus.ISSUED.value,
            IssuedCertificateRow.serial_hex != keep_serial_hex,
        )
        retired = [row.serial_hex for row in session.exec(query).all()]
        for serial_hex in retired:
            self.revoke(
                session,
                serial_hex,
                RevocationReason.SUPERSEDED,
                actor=actor,
                now=now,
                superseded_by=keep_serial_hex,
            )
        return retired

    def live_station_certificates(
        self, station_id: str | None = None
    ) -> list[tuple[str, datetime]]:
        """``(station id, not after)`` of every live station certificate (of one station)."""
        query = select(IssuedCertificateRow.station_id, IssuedCertificateRow.not_after).where(
            IssuedCertificateRow.profile == STATION.name,
            IssuedCertificateRow.status == CertificateStatus.ISSUED.value,
        )
        if station_id is not None:
            query = query.where(IssuedCertificateRow.station_id == station_id)
        with Session(self.engine) as session:
            rows = session.exec(query).all()
        return [(owner, as_utc(not_after)) for owner, not_after in rows if owner is not None]

    def crl_der(self, role: CARole, *, now: datetime | None = None) -> bytes:
        """The current CRL of ``role`` in DER (cached, rebuilt at once after a revocation)."""
        return self.ledger.crl_der(self.authority(role), now or utcnow())

    def ocsp_response(self, request_der: bytes, *, now: datetime | None = None) -> bytes:
        """An RFC 6960 answer, signed by the CA that issued the certificate asked about."""
        issuers: Sequence[IssuingCA] = [self.authority(role) for role in CARole]
        return answer_ocsp(
            request_der, issuers=issuers, status_of=self.ledger.status_of, now=now or utcnow()
        )
