"""Firmware signatures: over the whole file, checked against the family's manufacturer root.

OCPP 1.6 Security Whitepaper Ed. 3 (4.5 "Secure firmware update") and OCPP 2.0.1 Part 2 A00 /
L01: the image is signed with the firmware-signing key; its certificate is issued DIRECTLY by
the manufacturer root (no intermediate) and carries the codeSigning EKU. The default scheme is
RSA-PSS with SHA-256, MGF1(SHA-256) and a 32-byte salt (``openssl dgst -sha256 -sigopt
rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32``); families whose stations need it use ECDSA
P-256 with SHA-256 (DER). Signatures travel as standard base64.

Pure: chunks, PEM text and the time in; a signature or a typed error out. Whether a serial is
revoked is asked through ``is_revoked`` (the caller knows the CA's records). The tree::

    SignatureError (a firmware.errors.FirmwareError)
    +-- MalformedSignature   not base64, or a certificate that does not parse
    +-- SignatureMismatch    the signature does not match the bytes
    +-- UntrustedSigner      not issued directly by the root, not codeSigning, wrong key kind
    +-- SignerExpired        the signing certificate is not valid at ``now``
    +-- SignerRevoked        the signing certificate's serial is revoked
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import ExtendedKeyUsageOID

from firmware.errors import FirmwareError

__all__ = [
    "PSS_SALT_LENGTH",
    "MalformedSignature",
    "SignatureAlgorithm",
    "SignatureError",
    "SignatureMismatch",
    "SignerExpired",
    "SignerRevoked",
    "SigningKey",
    "UntrustedSigner",
    "VerifiedSignature",
    "algorithm_of_key",
    "digest_of",
    "sign_digest",
    "sign_image",
    "verify_image",
]

PSS_SALT_LENGTH = 32
"""Salt length of RSA-PSS signatures: the SHA-256 digest length."""

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class SignatureAlgorithm(StrEnum):
    """How an image is signed (the ``signature_algorithm`` column of an image)."""

    RSA_PSS_SHA256 = "rsa-pss-sha256"
    ECDSA_SHA256 = "ecdsa-sha256"


class SignatureError(FirmwareError):
    """Root of the signature errors: the image must not be accepted."""


class MalformedSignature(SignatureError):
    """The signature is not base64 or the certificate does not parse."""


class SignatureMismatch(SignatureError):
    """The signature does not match the file's bytes."""


class UntrustedSigner(SignatureError):
    """The signing certificate is not a codeSigning certificate issued directly by the root."""


class SignerExpired(SignatureError):
    """The signing certificate is not valid at the time of the check."""


class SignerRevoked(SignatureError):
    """The signing certificate has been revoked."""


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """What :func:`verify_image` established."""

    algorithm: SignatureAlgorithm
    signer_serial: int
    signer_subject: str
    not_after: datetime


_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PSS_SALT_LENGTH)
_PREHASHED = utils.Prehashed(hashes.SHA256())


def digest_of(chunks: Iterable[bytes]) -> bytes:
    """SHA-256 of the concatenated chunks (the file is never held whole)."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.digest()


def algorithm_of_key(key: SigningKey | object) -> SignatureAlgorithm:
    """The scheme a key signs with: RSA-PSS for RSA, ECDSA for P-256.

    Raises:
        UntrustedSigner: any other kind of key.
    """
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return SignatureAlgorithm.RSA_PSS_SHA256
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return SignatureAlgorithm.ECDSA_SHA256
    raise UntrustedSigner(f"firmware is signed with RSA or EC P-256 keys, not {_kind(key)}")


def sign_digest(digest: bytes, key: SigningKey) -> str:
    """Base64 signature of a SHA-256 ``digest`` under the scheme of ``key``."""
    if algorithm_of_key(key) is SignatureAlgorithm.RSA_PSS_SHA256:
        assert isinstance(key, rsa.RSAPrivateKey)
        raw = key.sign(digest, _PSS, _PREHASHED)
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        raw = key.sign(digest, ec.ECDSA(_PREHASHED))
    return base64.b64encode(raw).decode("ascii")


def sign_image(chunks: Iterable[bytes], key: SigningKey) -> str:
    """Base64 signature over the whole file: RSA-PSS/SHA-256 for RSA keys, ECDSA for P-256."""
    return sign_digest(digest_of(chunks), key)


def verify_image(
    chunks: Iterable[bytes] | bytes,
    signature_b64: str,
    certificate_pem: str,
    root_pem: str,
    *,
    now: datetime,
    is_revoked: Callable[[int], bool] | None = None,
    algorithm: SignatureAlgorithm | None = None,
) -> VerifiedSignature:
    """Check a firmware signature and its signer; ``chunks`` may also be a SHA-256 digest.

    ``algorithm``, when given, is the scheme the family requires.

    Raises:
        MalformedSignature, UntrustedSigner, SignerExpired, SignerRevoked, SignatureMismatch.
    """
    raw = _decode(signature_b64)
    signer = _certificate(certificate_pem, "signing certificate")
    root = _certificate(root_pem, "manufacturer root")
    verified = _check_signer(signer, root, now=now, is_revoked=is_revoked)
    if algorithm is not None and verified.algorithm is not algorithm:
        raise UntrustedSigner(
            f"this family's images are signed with {algorithm}, not {verified.algorithm}"
        )
    digest = chunks if isinstance(chunks, bytes) else digest_of(chunks)
    if len(digest) != hashlib.sha256().digest_size:
        raise ValueError("a digest passed as bytes must be a SHA-256 digest")
    public_key = signer.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(raw, digest, _PSS, _PREHASHED)
        else:
            assert isinstance(public_key, ec.EllipticCurvePublicKey)
            public_key.verify(raw, digest, ec.ECDSA(_PREHASHED))
    except InvalidSignature as exc:
        raise SignatureMismatch(
            f"the {verified.algorithm} signature does not match the image"
        ) from exc
    return verified


def _check_signer(
    signer: x509.Certificate,
    root: x509.Certificate,
    *,
    now: datetime,
    is_revoked: Callable[[int], bool] | None,
) -> VerifiedSignature:
    subject = signer.subject.rfc4514_string()
    if signer.issuer != root.subject:
        raise UntrustedSigner(f"{subject} is not issued directly by the family's signing root")
    try:
        signer.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise UntrustedSigner(f"{subject} is not signed by the family's signing root") from exc
    if signer == root:
        raise UntrustedSigner("the root itself is not a firmware-signing certificate")
    _check_code_signing(signer, subject)
    algorithm = algorithm_of_key(signer.public_key())
    for cert, what in ((signer, "signing certificate"), (root, "signing root")):
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise SignerExpired(
                f"the {what} {cert.subject.rfc4514_string()} is valid from"
                f" {cert.not_valid_before_utc.isoformat()} to"
                f" {cert.not_valid_after_utc.isoformat()}, not at {now.isoformat()}"
            )
    if is_revoked is not None and is_revoked(signer.serial_number):
        raise SignerRevoked(f"the signing certificate {signer.serial_number:X} is revoked")
    return VerifiedSignature(algorithm, signer.serial_number, subject, signer.not_valid_after_utc)


def _check_code_signing(signer: x509.Certificate, subject: str) -> None:
    try:
        constraints = signer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is not None and constraints.ca:
        raise UntrustedSigner(f"{subject} is a CA certificate, not a firmware-signing one")
    try:
        usage = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise UntrustedSigner(f"{subject} has no extended key usage codeSigning") from exc
    if ExtendedKeyUsageOID.CODE_SIGNING not in usage:
        raise UntrustedSigner(f"{subject} is not a codeSigning certificate")


def _decode(signature_b64: str) -> bytes:
    text = signature_b64.strip()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedSignature("the signature is not standard base64") from exc
    if not raw or len(raw) > 1024:
        raise MalformedSignature(f"a firmware signature has 1 to 1024 bytes, not {len(raw)}")
    return raw


def _certificate(pem: str, what: str) -> x509.Certificate:
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except (ValueError, UnicodeError) as exc:
        raise MalformedSignature(f"the {what} is not a PEM certificate") from exc
    if len(certs) != 1:
        raise MalformedSignature(f"the {what} must be exactly one PEM certificate")
    return certs[0]


def _kind(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__
