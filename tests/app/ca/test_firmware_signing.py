"""The platform's firmware-signing keys: issued directly by the manufacturer root, sealed at
rest, recorded and audited, one per algorithm even when processes race, renewed near the end."""

from __future__ import annotations

import threading
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlmodel import Session, select

from app.audit import AuditEntry
from app.ca import CertificateAuthority
from app.ca.firmware_signing import RENEW_BEFORE, FirmwareSigner
from app.ca.tables import FirmwareSigningKeyRow, IssuedCertificateRow
from app.platform import Platform
from common.clock import utcnow
from firmware.signatures import SignatureAlgorithm, digest_of, verify_image
from pki import load_certificate


def test_the_signing_certificate_is_issued_directly_by_the_manufacturer_root(
    platform: Platform,
) -> None:
    now = utcnow()
    platform.ca.initialize(now=now)
    signer = platform.firmware_signer

    with Session(platform.engine) as session:
        made = signer.sign_firmware(
            session, digest_of([b"image"]), SignatureAlgorithm.RSA_PSS_SHA256,
            actor_name="test", now=now,
        )  # fmt: skip

    cert = load_certificate(made.certificate_pem)
    root = load_certificate(platform.ca.manufacturer_root_pem())
    assert cert.issuer == root.subject
    cert.verify_directly_issued_by(root)
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CODE_SIGNING]
    assert isinstance(cert.public_key(), rsa.RSAPublicKey) and cert.public_key().key_size == 3072
    verify_image(
        [b"image"], made.signature, made.certificate_pem, platform.ca.manufacturer_root_pem(),
        now=now,
    )  # fmt: skip
    with Session(platform.engine) as session:
        row = session.exec(select(FirmwareSigningKeyRow)).one()
        issued = session.exec(
            select(IssuedCertificateRow).where(IssuedCertificateRow.profile == "firmware-signing")
        ).one()
        audited = session.exec(
            select(AuditEntry).where(AuditEntry.action == "firmware.signing_key_created")
        ).one()
    assert b"PRIVATE KEY" not in row.sealed_key and issued.serial_hex == row.serial_hex
    assert issued.issuer_role == "manufacturer-root" and audited.actor == "test"


def test_ecdsa_families_get_a_p256_key_of_their_own(platform: Platform) -> None:
    now = utcnow()
    platform.ca.initialize(now=now)
    with Session(platform.engine) as session:
        ec_made = platform.firmware_signer.sign_firmware(
            session, digest_of([b"x"]), SignatureAlgorithm.ECDSA_SHA256, actor_name="t", now=now
        )
        rsa_made = platform.firmware_signer.sign_firmware(
            session, digest_of([b"x"]), SignatureAlgorithm.RSA_PSS_SHA256, actor_name="t", now=now
        )
    key = load_certificate(ec_made.certificate_pem).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert ec_made.certificate_pem != rsa_made.certificate_pem


def test_processes_racing_for_the_first_key_end_with_one(platform: Platform) -> None:
    now = utcnow()
    platform.ca.initialize(now=now)
    signers = [
        FirmwareSigner(CertificateAuthority(platform.settings, platform.engine)) for _ in range(4)
    ]
    barrier = threading.Barrier(len(signers))
    certificates: list[str] = []

    def sign(signer: FirmwareSigner) -> None:
        barrier.wait()
        _, pem = signer.signing_key(SignatureAlgorithm.RSA_PSS_SHA256, actor_name="t", now=now)
        certificates.append(pem)

    threads = [threading.Thread(target=sign, args=(s,)) for s in signers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(certificates) == 4 and len(set(certificates)) == 1
    with Session(platform.engine) as session:
        assert len(session.exec(select(FirmwareSigningKeyRow)).all()) == 1


def test_a_key_near_its_end_is_replaced_and_the_new_one_is_kept(platform: Platform) -> None:
    now = utcnow()
    platform.ca.initialize(now=now)
    signer = platform.firmware_signer
    _, first = signer.signing_key(SignatureAlgorithm.RSA_PSS_SHA256, actor_name="t", now=now)
    late = load_certificate(first).not_valid_after_utc - RENEW_BEFORE + timedelta(hours=1)

    _, second = FirmwareSigner(platform.ca).signing_key(
        SignatureAlgorithm.RSA_PSS_SHA256, actor_name="t", now=late
    )

    assert second != first
    _, again = FirmwareSigner(platform.ca).signing_key(
        SignatureAlgorithm.RSA_PSS_SHA256, actor_name="t", now=late
    )
    assert again == second
