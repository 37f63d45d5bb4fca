"""Throwaway manufacturer roots and signing certificates for the firmware tests."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from firmware.signatures import SigningKey
from pki import (
    CARole,
    IssuingCA,
    KeyKind,
    certificate_to_pem,
    create_manufacturer_root,
    generate_private_key,
    new_serial_number,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Signer:
    key: SigningKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> str:
        return certificate_to_pem(self.certificate)


def make_root(name: str = "Vendor", kind: KeyKind = KeyKind.EC_P256) -> IssuingCA:
    return create_manufacturer_root(
        manufacturer_name=name,
        key=generate_private_key(kind),
        serial=new_serial_number(),
        now=NOW - timedelta(days=1),
    )


def root_pem(root: IssuingCA) -> str:
    return certificate_to_pem(root.certificate)


def make_signer(
    issuer: IssuingCA,
    kind: KeyKind = KeyKind.RSA_3072,
    *,
    usage: x509.ObjectIdentifier = ExtendedKeyUsageOID.CODE_SIGNING,
    not_before: datetime = NOW - timedelta(days=1),
    not_after: datetime = NOW + timedelta(days=365),
    ca: bool = False,
) -> Signer:
    key = generate_private_key(kind)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "firmware signer")]))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(new_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .sign(issuer.private_key, hashes.SHA256())
    )
    return Signer(key, cert)


def intermediate_under(root: IssuingCA) -> IssuingCA:
    """A CA between the root and a signer (which OCPP forbids for the signing certificate)."""
    middle = make_signer(root, KeyKind.EC_P256, ca=True)
    return IssuingCA(CARole.MANUFACTURER_ROOT, middle.certificate, middle.key)


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def public_key_pem(signer: Signer) -> bytes:
    return signer.certificate.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
