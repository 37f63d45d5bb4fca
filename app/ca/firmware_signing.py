"""The platform's firmware-signing keys: certificates issued directly by the manufacturer root.

DESIGN.md "PKI": firmware-signing certificates are signed by the manufacturer root with no
intermediate (OCPP 2.0.1 Part 2 A00; 1.6 Security Whitepaper 4.5). One key per signature
algorithm: RSA 3072 for RSA-PSS (the default), EC P-256 for ECDSA families. The key is made on
first use, sealed like the CA keys (``app.ca.keys``), recorded as an issued certificate (so it
can be revoked like any other) and audited; it is replaced once it is within ``RENEW_BEFORE``
of its end. Implements ``firmware.ports.ImageSigner``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import audit
from app.ca.keys import serial_to_hex
from app.ca.service import CertificateAuthority
from app.ca.tables import CertificateStatus, FirmwareSigningKeyRow, IssuedCertificateRow
from common.clock import as_utc
from firmware.ports import PlatformSignature
from firmware.signatures import SignatureAlgorithm, SigningKey, sign_digest
from pki import (
    FIRMWARE_SIGNING,
    CARole,
    KeyKind,
    certificate_to_pem,
    check_csr,
    generate_private_key,
    issue_certificate,
    load_certificate,
    new_serial_number,
    open_private_key,
    seal_private_key,
)

RENEW_BEFORE = timedelta(days=30)
_KEY_KINDS = {
    SignatureAlgorithm.RSA_PSS_SHA256: KeyKind.RSA_3072,
    SignatureAlgorithm.ECDSA_SHA256: KeyKind.EC_P256,
}


class FirmwareSigner:
    """Signs firmware digests with the platform's firmware-signing keys."""

    def __init__(self, ca: CertificateAuthority) -> None:
        self.ca = ca
        self._keys: dict[SignatureAlgorithm, tuple[SigningKey, str, datetime]] = {}
        self._lock = threading.Lock()

    def manufacturer_root_pem(self) -> str:
        return self.ca.manufacturer_root_pem()

    def is_revoked(self, serial: int) -> bool:
        """Asked of the database itself: no cache window lets a revoked signer through."""
        query = select(IssuedCertificateRow.status).where(
            IssuedCertificateRow.serial_hex == serial_to_hex(serial)
        )
        with Session(self.ca.engine) as session:
            status = session.exec(query).first()
        return status == CertificateStatus.REVOKED.value

    def sign_firmware(
        self,
        session: Session,  # noqa: ARG002 - the key is made in its own transaction
        digest: bytes,
        algorithm: SignatureAlgorithm,
        *,
        actor_name: str,
        now: datetime,
    ) -> PlatformSignature:
        key, certificate_pem = self.signing_key(algorithm, actor_name=actor_name, now=now)
        return PlatformSignature(sign_digest(digest, key), certificate_pem, algorithm)

    def signing_key(
        self, algorithm: SignatureAlgorithm, *, actor_name: str, now: datetime
    ) -> tuple[SigningKey, str]:
        """The live key and certificate of ``algorithm``, made (or renewed) when needed."""
        with self._lock:
            cached = self._keys.get(algorithm)
            if cached is not None and cached[2] - RENEW_BEFORE > now and not self._revoked(cached):
                return cached[0], cached[1]
            loaded = self._load(algorithm)
            if loaded is None or loaded[2] - RENEW_BEFORE <= now or self._revoked(loaded):
                loaded = self._create(
                    algorithm, replace=loaded is not None, actor_name=actor_name, now=now
                )
            self._keys[algorithm] = loaded
            return loaded[0], loaded[1]

    def _revoked(self, entry: tuple[SigningKey, str, datetime]) -> bool:
        return self.is_revoked(load_certificate(entry[1]).serial_number)

    def _load(self, algorithm: SignatureAlgorithm) -> tuple[SigningKey, str, datetime] | None:
        query = select(FirmwareSigningKeyRow).where(FirmwareSigningKeyRow.algorithm == algorithm)
        with Session(self.ca.engine) as session:
            row = session.exec(query).first()
        if row is None:
            return None
        key = open_private_key(row.sealed_key, self.ca.encryptor)
        return key, row.certificate_pem, as_utc(row.not_after)

    def _create(
        self, algorithm: SignatureAlgorithm, *, replace: bool, actor_name: str, now: datetime
    ) -> tuple[SigningKey, str, datetime]:
        root = self.ca.authority(CARole.MANUFACTURER_ROOT)
        key = generate_private_key(_KEY_KINDS[algorithm])
        name = f"{self.ca.settings.operator_name} firmware signing {algorithm}"[:64]
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .sign(key, hashes.SHA256())
        )
        checked = check_csr(
            csr, profile=FIRMWARE_SIGNING, expected_common_name=None, expected_organization=None
        )
        cert = issue_certificate(
            checked,
            issuer=root,
            serial=new_serial_number(),
            now=now,
            revocation_urls=self.ca.revocation_urls(CARole.MANUFACTURER_ROOT),
        )
        pem = certificate_to_pem(cert)
        actor = audit.Actor(actor_name)
        try:
            with Session(self.ca.engine) as session:
                query = select(FirmwareSigningKeyRow).where(
                    FirmwareSigningKeyRow.algorithm == algorithm
                )
                row = session.exec(query).first() if replace else None
                if row is None:
                    row = FirmwareSigningKeyRow(
                        algorithm=algorithm.value,
                        serial_hex="",
                        certificate_pem="",
                        sealed_key=b"",
                        not_after=cert.not_valid_after_utc,
                    )
                row.serial_hex = serial_to_hex(cert.serial_number)
                row.certificate_pem = pem
                row.sealed_key = seal_private_key(key, self.ca.encryptor)
                row.not_after = cert.not_valid_after_utc
                row.created_at = now
                session.add(row)
                self.ca.store(session, cert, FIRMWARE_SIGNING, actor)
                audit.record(
                    session,
                    actor,
                    "firmware.signing_key_created",
                    object_type="certificate",
                    object_id=row.serial_hex,
                    algorithm=algorithm.value,
                )
                session.commit()
        except IntegrityError:  # another process made it first: use theirs
            loaded = self._load(algorithm)
            if loaded is None:
                raise
            return loaded
        return key, pem, cert.not_valid_after_utc
