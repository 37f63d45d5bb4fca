"""Key pairs the platform generates, and how public keys are described in refusals.

ECDSA P-256 is the default (DESIGN.md "PKI": cheap TLS handshakes in reconnect storms). Every kind
offered gives at least 112 bits of security, the floor OCPP 2.0.1 Part 2 A00 (Certificate
properties) and the 1.6 Security Whitepaper set for all certificates.
"""

from __future__ import annotations

from enum import StrEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
"""The private-key types a CA or the platform may hold."""

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
"""The public-key types a certificate issued here may certify."""

RSA_PUBLIC_EXPONENT = 65537


class KeyKind(StrEnum):
    """The kinds of key pair the platform generates."""

    EC_P256 = "ec-p256"
    EC_P384 = "ec-p384"
    RSA_2048 = "rsa-2048"
    RSA_3072 = "rsa-3072"


_CURVES: dict[KeyKind, ec.EllipticCurve] = {
    KeyKind.EC_P256: ec.SECP256R1(),
    KeyKind.EC_P384: ec.SECP384R1(),
}
_RSA_BITS: dict[KeyKind, int] = {KeyKind.RSA_2048: 2048, KeyKind.RSA_3072: 3072}
_CURVE_NAMES: dict[str, str] = {
    "secp192r1": "P-192",
    "secp224r1": "P-224",
    "secp256r1": "P-256",
    "secp384r1": "P-384",
    "secp521r1": "P-521",
}


def generate_private_key(kind: KeyKind = KeyKind.EC_P256) -> PrivateKey:
    """Generate a fresh private key of ``kind`` (EC P-256 unless told otherwise)."""
    if kind in _CURVES:
        return ec.generate_private_key(_CURVES[kind])
    return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=_RSA_BITS[kind])


def describe_public_key(key: PublicKeyTypes) -> str:
    """Name a public key as refusals print it: "EC P-256", "RSA 2048 bits", "Ed25519"."""
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size} bits"
    if isinstance(key, ec.EllipticCurvePublicKey):
        name = key.curve.name
        return f"EC {_CURVE_NAMES.get(name, name)}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__


SignatureHash = hashes.SHA256 | hashes.SHA384 | hashes.SHA512


def signature_hash(key: PrivateKey | PublicKey) -> SignatureHash:
    """The hash a CA key signs with: SHA-384 for P-384, SHA-512 for P-521, SHA-256 otherwise.

    OCPP 2.0.1 Part 2 A00 asks for SHA-256 or stronger in every certificate signature.
    """
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if key.curve.key_size >= 521:
            return hashes.SHA512()
        if key.curve.key_size >= 384:
            return hashes.SHA384()
    return hashes.SHA256()
