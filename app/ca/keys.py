"""Key material around the CA: the key-encryption key, and serial numbers as text.

The local KEK is 32 random bytes in ``<ca_dir>/kek``, created 0600 and atomically (a process
that loses the race reads the winner's file); with ``CHARGELINE_KMS_KEY_ID`` set, CA keys are
sealed by AWS KMS envelope encryption instead (``pki.protection.KmsEnvelopeEncryptor``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any

from app.settings import Settings
from pki import KeyEncryptor, KmsEnvelopeEncryptor, LocalKeyEncryptor, generate_kek


def serial_to_hex(serial: int) -> str:
    """Upper-case hex of even length, as ``openssl x509 -serial`` prints it."""
    text = f"{serial:X}"
    return text if len(text) % 2 == 0 else "0" + text


def normalise_serial(text: str) -> str:
    """Accept ``0a:1b``, ``0x0A1B``, ``a1b`` ...; raise ``ValueError`` if it is not hex."""
    cleaned = text.strip().replace(":", "").lower().removeprefix("0x")
    if not cleaned or len(cleaned) > 40 or any(c not in "0123456789abcdef" for c in cleaned):
        raise ValueError(f"not a hexadecimal serial number: {text[:48]!r}")
    return serial_to_hex(int(cleaned, 16))


def load_or_create_kek(path: Path) -> bytes:
    """The local KEK at ``path``; created (0600, atomically, never overwritten) if absent."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".kek-{os.getpid()}-{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(generate_kek())
            with contextlib.suppress(FileExistsError):  # another process won: use theirs
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_bytes()


def key_encryptor(settings: Settings) -> KeyEncryptor:
    """KMS envelope encryption when a KMS key is configured, else the local KEK."""
    if settings.kms_key_id:
        import boto3

        client: Any = boto3.client("kms", region_name=settings.aws_region)
        return KmsEnvelopeEncryptor(client, settings.kms_key_id)
    return LocalKeyEncryptor(load_or_create_kek(settings.resolved_ca_dir / "kek"))
