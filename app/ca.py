"""The platform's CA service: ``pki`` hierarchies kept in the database, issuance, revocation.

DESIGN.md "PKI". CA private keys are sealed with a key-encryption key before they are stored:
a local 256-bit key in ``<ca_dir>/kek`` (mode 0600) by default, AWS KMS envelope encryption when
``CHARGELINE_KMS_KEY_ID`` is set. Issued certificates carry their CRL distribution point and
OCSP responder (RFC 5280 4.2.1.13, 4.2.2.1) under ``settings.api_url``.

Revocation has one path, whoever revokes (REST on any process, the CLI, the gateway itself):
``revoke`` writes the database, and once that transaction commits the revocation is announced
to this process's ``listeners`` and over Redis (``app.ca_revocation``). Admission asks the
database about the presented serial on every profile-3 handshake, so no cache window lets a
revoked certificate in; the edges close open sessions (``app.revocation_watch``).

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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import audit
from app.ca_keys import key_encryptor, normalise_serial, serial_to_hex
from app.ca_revocation import (
    RedisAnnouncer,
    Revocation,
    RevocationLedger,
    RevocationListener,
)
from app.ca_tables import CAMaterial, CertificateStatus, IssuedCertificateRow
from app.settings import Settings
from common.clock import utcnow
from ocpp_edge.admission import STATION_ID
from pki import (
    STATION,
    USER,
    CARole,
    CertificateRevoked,
    ChainInvalid,
    CsrRejected,
    IssuanceRefused,
    IssuingCA,
    KeyEncryptor,
    KeyProtectionError,
    LeafProfile,
    RevocationReason,
    RevocationUrls,
    VerifiedClient,
    answer_ocsp,
    certificate_to_pem,
    chain_pem,
    check_csr,
    create_intermediate,
    create_manufacturer_root,
    create_operator_root,
    generate_private_key,
    issue_certificate,
    load_certificate,
    load_csr,
    new_serial_number,
    open_private_key,
    seal_private_key,
    user_subject_alt_names,
    verify_client_certificate,
)
from pki.hierarchy import INTERMEDIATE_ROLES

log = logging.getLogger(__name__)

_PENDING = "chargeline.revocations"

VERIFIED_CLIENTS = 100_000
"""Client certificates whose chain check is remembered (by SHA-256 of the DER), least recently
presented dropped first; a fleet reconnecting after an outage fits."""


class CAError(Exception):
    """Root of the CA service's own errors (``pki`` errors pass through unchanged)."""


class CANotInitialized(CAError):
    def __init__(self) -> None:
        super().__init__("the CA is not initialised: run `chargeline pki init`")


class UnknownCertificate(CAError):
    def __init__(self, serial_hex: str) -> None:
        super().__init__(f"no certificate with serial {serial_hex[:48]}")


class AlreadyRevoked(CAError):
    def __init__(self, serial_hex: str) -> None:
        super().__init__(f"certificate {serial_hex} is already revoked")


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """What a caller gets back from an issuance: the leaf, the chain a station installs."""

    serial_hex: str
    certificate_pem: str
    chain_pem: str  # leaf + intermediate, as OCPP CertificateSigned carries it
    root_pem: str
    not_after: datetime


class CertificateAuthority:
    """The operator and manufacturer hierarchies, over the platform's database."""

    def __init__(
        self,
        platform_settings: Settings,
        engine: Engine,
        *,
        encryptor: KeyEncryptor | None = None,
    ) -> None:
        self.settings = platform_settings
        self.engine = engine
        self.listeners: list[RevocationListener] = []
        self.announcer = (
            RedisAnnouncer(platform_settings.redis_url) if platform_settings.redis_url else None
        )
        self._encryptor = encryptor
        self._cas: dict[CARole, IssuingCA] | None = None
        self._lock = threading.Lock()
        self.ledger = RevocationLedger(engine)
        self._verified: OrderedDict[bytes, VerifiedClient] = OrderedDict()
        self._verified_lock = threading.Lock()

    # -- hierarchy ---------------------------------------------------------------------------

    @property
    def encryptor(self) -> KeyEncryptor:
        if self._encryptor is None:
            self._encryptor = key_encryptor(self.settings)
        return self._encryptor

    def initialize(self, *, now: datetime) -> bool:
        """Create both hierarchies unless they exist; True when this call created them."""
        if self._load():
            return False
        authorities = self._create_hierarchy(now)
        rows = [
            CAMaterial(
                role=ca.role.value,
                serial_hex=serial_to_hex(ca.certificate.serial_number),
                certificate_pem=certificate_to_pem(ca.certificate),
                sealed_key=seal_private_key(ca.private_key, self.encryptor),
            )
            for ca in authorities
        ]
        try:
            with Session(self.engine) as session:
                session.add_all(rows)
                audit.record(
                    session,
                    audit.Actor("system"),
                    "pki.initialized",
                    object_type="ca",
                    operator=self.settings.operator_name,
                    roles=[ca.role.value for ca in authorities],
                )
                session.commit()
        except IntegrityError:
            if self._load():
                return False
            raise
        self._cas = {ca.role: ca for ca in authorities}
        return True

    def _create_hierarchy(self, now: datetime) -> list[IssuingCA]:
        name = self.settings.operator_name
        root = create_operator_root(
            operator_name=name, key=generate_private_key(), serial=new_serial_number(), now=now
        )
        crl_url = self.crl_url(CARole.OPERATOR_ROOT)
        intermediates = [
            create_intermediate(
                root,
                role=role,
                key=generate_private_key(),
                serial=new_serial_number(),
                now=now,
                crl_url=crl_url,
            )
            for role in INTERMEDIATE_ROLES
        ]
        manufacturer = create_manufacturer_root(
            manufacturer_name=name, key=generate_private_key(), serial=new_serial_number(), now=now
        )
        return [root, *intermediates, manufacturer]

    def _load(self) -> bool:
        with self._lock:
            if self._cas is not None:
                return True
            with Session(self.engine) as session:
                rows = session.exec(select(CAMaterial)).all()
            if not rows:
                return False
            try:
                self._cas = {
                    CARole(row.role): IssuingCA(
                        CARole(row.role),
                        load_certificate(row.certificate_pem),
                        open_private_key(row.sealed_key, self.encryptor),
                    )
                    for row in rows
                }
            except KeyProtectionError as exc:
                raise KeyProtectionError(f"CA keys do not open with this KEK: {exc}") from exc
            return True

    def authority(self, role: CARole) -> IssuingCA:
        """The CA of ``role`` (loads the hierarchy on first use)."""
        if not self._load():
            raise CANotInitialized()
        assert self._cas is not None
        return self._cas[role]

    @property
    def initialized(self) -> bool:
        return self._load()

    def crl_url(self, role: CARole) -> str:
        return f"{self.settings.api_url}/pki/crl/{role.value}.crl"

    @property
    def ocsp_url(self) -> str:
        return f"{self.settings.api_url}/pki/ocsp"

    def revocation_urls(self, role: CARole) -> RevocationUrls:
        return RevocationUrls(crl_url=self.crl_url(role), ocsp_url=self.ocsp_url)

    def root_pem(self) -> str:
        return certificate_to_pem(self.authority(CARole.OPERATOR_ROOT).certificate)

    def manufacturer_root_pem(self) -> str:
        return certificate_to_pem(self.authority(CARole.MANUFACTURER_ROOT).certificate)

    def chain_pem(self, role: CARole) -> str:
        """The CA certificate of ``role``, followed by the operator root for intermediates."""
        pem = certificate_to_pem(self.authority(role).certificate)
        return pem + self.root_pem() if role in INTERMEDIATE_ROLES else pem

    # -- issuance ----------------------------------------------------------------------------

    def issue_station_certificate(
        self,
        session: Session,
        csr_pem: str,
        *,
        station_id: str,
        actor: audit.Actor,
        now: datetime,
    ) -> IssuedCertificate:
        """Sign a station's CSR (profile 3 client certificate, CN = ``station_id``).

        Raises:
            CsrRejected: the CSR is malformed, weak, or names another station; the refusal is
                audited in its own transaction.
        """
        try:
            if not STATION_ID.fullmatch(station_id):
                raise CsrRejected(f"not a valid station id: {station_id[:60]!r}")
            checked = check_csr(
                load_csr(csr_pem),
                profile=STATION,
                expected_common_name=station_id,
                expected_organization=None,
            )
        except CsrRejected as exc:
            self.record_refusal(actor, "pki.certificate_refused", station_id, exc.reason)
            raise
        issuer = self.authority(CARole.STATION)
        cert = issue_certificate(
            checked,
            issuer=issuer,
            serial=new_serial_number(),
            now=now,
            revocation_urls=self.revocation_urls(CARole.STATION),
        )
        return self.store(session, cert, STATION, actor, station_id=station_id)

    def issue_user_certificate(
        self,
        session: Session,
        csr_pem: str,
        *,
        user_id: str,
        station_ids: list[str],
        validity: timedelta,
        actor: audit.Actor,
        now: datetime,
    ) -> IssuedCertificate:
        """A short-lived user certificate (CN = ``user_id``) bound to ``station_ids`` by SAN.

        Raises:
            CsrRejected: the CSR is refused; IssuanceRefused: no stations, or a validity
                outside (0, 7 days].
        """
        try:
            if not station_ids:
                raise IssuanceRefused("a user certificate must name at least one station")
            if not timedelta(0) < validity <= USER.validity:
                raise IssuanceRefused(f"validity must be more than 0 and at most {USER.validity}")
            profile = replace(USER, validity=validity)
            checked = check_csr(
                load_csr(csr_pem),
                profile=profile,
                expected_common_name=None,
                expected_organization=None,
            )
        except (CsrRejected, IssuanceRefused) as exc:
            self.record_refusal(actor, "pki.certificate_refused", user_id, str(exc))
            raise
        issuer = self.authority(CARole.USER)
        subject = x509.Name(
            [
                *issuer.name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME),
                x509.NameAttribute(NameOID.COMMON_NAME, user_id),
            ]
        )
        cert = issue_certificate(
            checked,
            issuer=issuer,
            serial=new_serial_number(),
            now=now,
            subject=subject,
            san=user_subject_alt_names(user_id, station_ids),
            revocation_urls=self.revocation_urls(CARole.USER),
        )
        return self.store(session, cert, profile, actor, user_id=user_id)

    def store(
        self,
        session: Session,
        cert: x509.Certificate,
        profile: LeafProfile,
        actor: audit.Actor,
        *,
        station_id: str | None = None,
        user_id: str | None = None,
    ) -> IssuedCertificate:
        """Record a certificate this CA signed and audit the issuance (commits with ``session``)."""
        issuer = self.authority(profile.issuer_role)
        serial_hex = serial_to_hex(cert.serial_number)
        common_name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        pem = certificate_to_pem(cert)
        session.add(
            IssuedCertificateRow(
                serial_hex=serial_hex,
                issuer_role=issuer.role.value,
                profile=profile.name,
                subject_cn=str(common_name),
                station_id=station_id,
                user_id=user_id,
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                certificate_pem=pem,
            )
        )
        audit.record(
            session,
            actor,
            "pki.certificate_issued",
            object_type="certificate",
            object_id=serial_hex,
            profile=profile.name,
            station_id=station_id,
            user_id=user_id,
            not_after=cert.not_valid_after_utc,
        )
        return IssuedCertificate(
            serial_hex=serial_hex,
            certificate_pem=pem,
            chain_pem=chain_pem(cert, [issuer.certificate]),
            root_pem=self.root_pem(),
            not_after=cert.not_valid_after_utc,
        )

    def record_refusal(
        self, actor: audit.Actor, action: str, object_id: str, reason: str, **detail: object
    ) -> None:
        """Audit a refusal in its own transaction, so it survives the caller's rollback."""
        with Session(self.engine) as session:
            audit.record(
                session,
                actor,
                action,
                object_type="certificate",
                object_id=object_id[:200],
                outcome="failure",
                reason=reason,
                **detail,
            )
            session.commit()

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

    def crl_der(self, role: CARole, *, now: datetime | None = None) -> bytes:
        """The current CRL of ``role`` in DER (cached, rebuilt at once after a revocation)."""
        return self.ledger.crl_der(self.authority(role), now or utcnow())

    def ocsp_response(self, request_der: bytes, *, now: datetime | None = None) -> bytes:
        """An RFC 6960 answer, signed by the CA that issued the certificate asked about."""
        issuers: Sequence[IssuingCA] = [self.authority(role) for role in CARole]
        return answer_ocsp(
            request_der, issuers=issuers, status_of=self.ledger.status_of, now=now or utcnow()
        )
