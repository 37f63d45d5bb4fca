"""The certificates a simulated station keeps: roots installed by the CSMS, and their ids.

InstallCertificate (1.6 Security Whitepaper 4.3, 2.0.1 M05) stores a root of one use,
GetInstalledCertificateIds (M03) lists them as CertificateHashData (issuer name and key hashed
with SHA-256, serial in hexadecimal without leading zeroes), DeleteCertificate (M04) removes one.
The firmware check (``simulator.signing``) trusts only the installed ManufacturerRootCertificate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MANUFACTURER_ROOT = "ManufacturerRootCertificate"

# 1.6 CertificateUseEnumType names the CSMS root differently from 2.0.1.
_V16_USES = {"CentralSystemRootCertificate": "CSMSRootCertificate"}


def canonical_use(use: str) -> str:
    """2.0.1 names for a certificate use (1.6 CentralSystemRootCertificate -> CSMSRoot...)."""
    return _V16_USES.get(use, use)


def _key_bits(certificate: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING's content (what issuerKeyHash hashes, RFC 6960 4.1.1)."""
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    if isinstance(key, rsa.RSAPublicKey):
        return key.public_bytes(Encoding.DER, PublicFormat.PKCS1)
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def hash_data(certificate: x509.Certificate) -> dict[str, str]:
    """CertificateHashData of a root (self-issued: its own key is the issuer's key)."""
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.sha256(_key_bits(certificate)).hexdigest(),
        "serialNumber": format(certificate.serial_number, "x"),
    }


@dataclass(frozen=True, slots=True)
class InstalledCertificate:
    use: str
    pem: str
    certificate: x509.Certificate
    hash_data: dict[str, str]


@dataclass(slots=True)
class CertificateStore:
    """Installed roots, at most one copy of each certificate per use."""

    installed: list[InstalledCertificate] = field(default_factory=list)

    def install(self, use: str, pem: str, now: datetime) -> str:
        """``Accepted``, or ``Rejected`` for what is not a valid, current CA certificate."""
        try:
            certificate = x509.load_pem_x509_certificate(pem.encode())
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        except (ValueError, x509.ExtensionNotFound):
            return "Rejected"
        valid = certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc
        if not constraints.value.ca or not valid:
            return "Rejected"
        use = canonical_use(use)
        entry = InstalledCertificate(use, pem, certificate, hash_data(certificate))
        self.installed = [
            c for c in self.installed if not (c.use == use and c.hash_data == entry.hash_data)
        ]
        self.installed.append(entry)
        return "Accepted"

    def of_use(self, uses: set[str] | None = None) -> list[InstalledCertificate]:
        """The installed certificates of ``uses`` (all when None)."""
        if uses is None:
            return list(self.installed)
        wanted = {canonical_use(use) for use in uses}
        return [c for c in self.installed if c.use in wanted]

    def roots(self, use: str = MANUFACTURER_ROOT) -> list[x509.Certificate]:
        return [c.certificate for c in self.of_use({use})]

    def delete(self, wanted: dict[str, Any]) -> str:
        """``Accepted`` when a certificate with these hashes was removed, else ``NotFound``."""
        keys = ("issuerNameHash", "issuerKeyHash", "serialNumber")

        def matches(entry: InstalledCertificate) -> bool:
            return all(
                str(wanted.get(k, "")).lower().lstrip("0") == entry.hash_data[k].lstrip("0")
                for k in keys
            )

        kept = [c for c in self.installed if not matches(c)]
        if len(kept) == len(self.installed):
            return "NotFound"
        self.installed = kept
        return "Accepted"
