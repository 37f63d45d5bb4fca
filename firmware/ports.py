"""What firmware needs from the rest of the platform, as small ports (wired in ``app``).

The platform's CA signs images with its firmware-signing certificate and knows which of the
certificates it issued are revoked; firmware only sees this Protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from firmware.signatures import SignatureAlgorithm


@dataclass(frozen=True, slots=True)
class PlatformSignature:
    """A signature the platform made, and the certificate that verifies it."""

    signature: str  # base64
    certificate_pem: str
    algorithm: SignatureAlgorithm


class ImageSigner(Protocol):
    """The platform's manufacturer root and its firmware-signing keys."""

    def manufacturer_root_pem(self) -> str:
        """The platform's manufacturer root (PEM), the default signing root of a family."""
        ...

    def sign_firmware(
        self,
        session: Session,
        digest: bytes,
        algorithm: SignatureAlgorithm,
        *,
        actor_name: str,
        now: datetime,
    ) -> PlatformSignature:
        """Sign a SHA-256 digest with the platform's firmware-signing key of ``algorithm``."""
        ...

    def is_revoked(self, serial: int) -> bool:
        """Whether a certificate the platform issued is revoked (False for foreign ones)."""
        ...
