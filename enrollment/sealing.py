"""Keys derived from the platform secret, and the sealed box that keeps label codes printable.

The security codes are stored as HMAC hashes only (:mod:`enrollment.codes`), yet the factory
prints its labels after registration, sometimes hours later, from another script. So the two
plain codes are also kept *sealed*: AES-256-GCM under a key derived from the platform secret
(HKDF-SHA256, RFC 5869, one ``info`` per purpose), with the serial number as associated data so
a sealed box moved to another device does not open. The box exists only while the device is on
the factory's side (``registered`` or ``enrolled``); release erases it, and from then on the
platform holds no way to recover a code, only to check one.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from enrollment.errors import EnrollmentError

__all__ = ["LabelCodes", "SealError", "SecretKeys", "derive_key", "open_codes", "seal_codes"]

_NONCE_BYTES = 12
_VERSION = "v1"


class SealError(EnrollmentError):
    """A sealed box that does not open: tampered, moved, or sealed under another secret."""


@dataclass(frozen=True, slots=True)
class LabelCodes:
    """The two plain security codes of one device."""

    device: str
    packaging: str


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for ``purpose``, derived from ``secret`` with HKDF-SHA256 (RFC 5869).

    Raises:
        ValueError: ``secret`` is shorter than 16 bytes.
    """
    if len(secret) < 16:
        raise ValueError("the secret must be at least 16 bytes")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"chargeline",
        info=f"chargeline {purpose}".encode(),
    )
    return hkdf.derive(secret)


@dataclass(frozen=True, slots=True)
class SecretKeys:
    """The pepper for code hashes and the key for sealed label codes."""

    pepper: bytes
    sealing_key: bytes

    @classmethod
    def from_secrets(cls, secret_key: str, code_pepper: str | None = None) -> SecretKeys:
        """Keys from the platform secret; the pepper is ``code_pepper`` when one is set.

        Setting a pepper of its own keeps stored code hashes valid across a secret rotation.
        """
        secret = secret_key.encode()
        pepper = code_pepper.encode() if code_pepper else derive_key(secret, "code pepper")
        return cls(pepper=pepper, sealing_key=derive_key(secret, "label code sealing"))


def seal_codes(codes: LabelCodes, *, serial: str, key: bytes) -> str:
    """Encrypt ``codes`` for ``serial``: ``v1.<base64url(nonce || ciphertext)>``."""
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps({"d": codes.device, "p": codes.packaging}).encode()
    box = AESGCM(key).encrypt(nonce, plain, serial.encode())
    return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + box).decode()}"


def open_codes(sealed: str, *, serial: str, key: bytes) -> LabelCodes:
    """Decrypt what :func:`seal_codes` made for ``serial``.

    Raises:
        SealError: unknown format, altered box, another serial's box, or another key.
    """
    version, _, body = sealed.partition(".")
    if version != _VERSION:
        raise SealError(f"unknown sealed box format {version[:10]!r}")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
        plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], serial.encode())
        values = json.loads(plain)
        return LabelCodes(device=str(values["d"]), packaging=str(values["p"]))
    except (InvalidTag, ValueError, KeyError, TypeError) as error:
        raise SealError("sealed codes do not open with this key and serial") from error
