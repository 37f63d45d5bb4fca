"""The station's own firmware signature check, written apart from the platform's code.

1.6 Security Whitepaper 4.2 / 2.0.1 L01: the signing certificate must be issued directly by an
installed ManufacturerRootCertificate and be valid now (else the request is answered
InvalidCertificate); the signature is over the whole file, RSA-PSS with SHA-256 (MGF1 SHA-256,
salt length 32) for an RSA key or ECDSA with SHA-256 (DER) for an EC key, base64 encoded. The
station hashes the file while it downloads it, so the check takes the SHA-256 digest.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

PSS_SALT_LENGTH = 32


class CertificateRefused(Exception):
    """The signing certificate cannot be trusted (answer: InvalidCertificate)."""


def signing_certificate(
    pem: str, roots: Sequence[x509.Certificate], now: datetime
) -> x509.Certificate:
    """The signing certificate, checked against ``roots``.

    Raises:
        CertificateRefused: unreadable, expired or not yet valid, or issued by none of ``roots``.
    """
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise CertificateRefused("the signing certificate is not a PEM certificate") from None
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise CertificateRefused("the signing certificate is not valid now")
    if not roots:
        raise CertificateRefused("no manufacturer root certificate is installed")
    for root in roots:
        try:
            certificate.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return certificate
    raise CertificateRefused("the signing certificate is not issued by an installed root")


def signature_matches(digest: bytes, signature_b64: str, certificate: x509.Certificate) -> bool:
    """Whether ``signature_b64`` signs the file whose SHA-256 is ``digest``."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    key = certificate.public_key()
    prehashed = utils.Prehashed(hashes.SHA256())
    try:
        if isinstance(key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PSS_SALT_LENGTH)
            key.verify(signature, digest, pss, prehashed)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(prehashed))
        else:
            return False
    except InvalidSignature:
        return False
    return True
