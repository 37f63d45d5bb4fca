"""CA private keys encrypted at rest (DESIGN.md "PKI").

A key is serialised to PKCS#8 DER in memory and handed to a :class:`KeyEncryptor`; only the
sealed blob ever leaves this module. Two encryptors:

- :class:`LocalKeyEncryptor`: AES-256-GCM under a local key-encryption key (KEK). Blob format,
  version 1: ``b"CLK" 0x01 | nonce (12) | ciphertext+tag``; the 4-byte header is also the
  associated data, so a blob cannot be replayed as another version.
- :class:`KmsEnvelopeEncryptor`: AWS KMS envelope encryption. ``GenerateDataKey`` gives a fresh
  AES-256 data key per blob; the plaintext data key encrypts the payload with AES-GCM and is then
  dropped, the KMS-encrypted data key is stored in the blob. Blob format, version 2:
  ``b"CLK" 0x02 | len(encrypted data key) (2, big-endian) | encrypted data key | nonce (12) |
  ciphertext+tag``.

Any failure to open (tampering, wrong KEK, a KMS error) raises :class:`KeyProtectionError`.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pki.errors import KeyProtectionError
from pki.keys import PrivateKey

KEK_BYTES = 32
NONCE_BYTES = 12
_LOCAL_HEADER = b"CLK\x01"
_KMS_HEADER = b"CLK\x02"
_KMS_CONTEXT = {"purpose": "chargeline-ca-key"}


class KeyEncryptor(Protocol):
    """Wraps and unwraps secret bytes; the port behind which key storage sits."""

    def wrap(self, plaintext: bytes) -> bytes:
        """Encrypt ``plaintext`` into a self-describing blob."""
        ...

    def unwrap(self, blob: bytes) -> bytes:
        """Decrypt a blob made by :meth:`wrap`; raise :class:`KeyProtectionError` if it fails."""
        ...


class KmsClient(Protocol):
    """The two calls of a boto3 KMS client this module uses."""

    def generate_data_key(self, **kwargs: Any) -> Any:
        """KMS GenerateDataKey."""
        ...

    def decrypt(self, **kwargs: Any) -> Any:
        """KMS Decrypt."""
        ...


def generate_kek() -> bytes:
    """A fresh random 256-bit key-encryption key for :class:`LocalKeyEncryptor`."""
    return os.urandom(KEK_BYTES)


def _seal(key: bytes, header: bytes, plaintext: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, header)


def _open(key: bytes, header: bytes, sealed: bytes) -> bytes:
    nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, header)
    except (InvalidTag, ValueError) as exc:
        raise KeyProtectionError("sealed key does not open: tampered or wrong key") from exc


def _body(blob: bytes, header: bytes) -> bytes:
    if blob[: len(header)] != header:
        raise KeyProtectionError(f"not a sealed key of format {header[-1]}")
    return blob[len(header) :]


class LocalKeyEncryptor:
    """AES-256-GCM under a local key-encryption key (the embedded default)."""

    def __init__(self, kek: bytes) -> None:
        if len(kek) != KEK_BYTES:
            raise KeyProtectionError(f"KEK must be {KEK_BYTES} bytes, got {len(kek)}")
        self._kek = kek

    def __repr__(self) -> str:
        return "LocalKeyEncryptor(kek=<hidden>)"

    def wrap(self, plaintext: bytes) -> bytes:
        """Encrypt under the KEK with a random nonce."""
        return _LOCAL_HEADER + _seal(self._kek, _LOCAL_HEADER, plaintext)

    def unwrap(self, blob: bytes) -> bytes:
        """Decrypt a version-1 blob."""
        return _open(self._kek, _LOCAL_HEADER, _body(blob, _LOCAL_HEADER))


class KmsEnvelopeEncryptor:
    """Envelope encryption with an AWS KMS key (production): one data key per blob."""

    def __init__(self, kms_client: KmsClient, key_id: str) -> None:
        self._kms = kms_client
        self._key_id = key_id

    def wrap(self, plaintext: bytes) -> bytes:
        """Ask KMS for a data key, encrypt locally, store the encrypted data key alongside."""
        try:
            answer = self._kms.generate_data_key(
                KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=_KMS_CONTEXT
            )
        except (ClientError, BotoCoreError) as exc:
            raise KeyProtectionError(f"KMS GenerateDataKey failed: {exc}") from exc
        data_key: bytes = answer["Plaintext"]
        encrypted_key: bytes = answer["CiphertextBlob"]
        prefix = _KMS_HEADER + len(encrypted_key).to_bytes(2, "big") + encrypted_key
        return prefix + _seal(data_key, prefix, plaintext)

    def unwrap(self, blob: bytes) -> bytes:
        """Have KMS decrypt the data key, then open the payload with it."""
        body = _body(blob, _KMS_HEADER)
        size = int.from_bytes(body[:2], "big")
        encrypted_key, sealed = body[2 : 2 + size], body[2 + size :]
        if size == 0 or len(encrypted_key) != size:
            raise KeyProtectionError("sealed key is truncated")
        try:
            answer = self._kms.decrypt(
                CiphertextBlob=encrypted_key, KeyId=self._key_id, EncryptionContext=_KMS_CONTEXT
            )
        except (ClientError, BotoCoreError) as exc:
            raise KeyProtectionError(f"KMS Decrypt failed: {exc}") from exc
        prefix = blob[: len(_KMS_HEADER) + 2 + size]
        return _open(answer["Plaintext"], prefix, sealed)


def seal_private_key(key: PrivateKey, encryptor: KeyEncryptor) -> bytes:
    """Serialise ``key`` as PKCS#8 DER in memory and return it encrypted by ``encryptor``."""
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return encryptor.wrap(pkcs8)


def open_private_key(blob: bytes, encryptor: KeyEncryptor) -> PrivateKey:
    """Decrypt a blob made by :func:`seal_private_key` back into an EC or RSA private key."""
    pkcs8 = encryptor.unwrap(blob)
    try:
        key = serialization.load_der_private_key(pkcs8, password=None)
    except ValueError as exc:
        raise KeyProtectionError("sealed payload is not a PKCS#8 private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyProtectionError(f"sealed key of unsupported type {type(key).__name__}")
    return key
