"""The CA service's own errors (``pki`` errors pass through unchanged)."""

from __future__ import annotations


class CAError(Exception):
    """Root of the CA service's own errors (``pki`` errors pass through unchanged)."""


class CANotInitialized(CAError):
    def __init__(self) -> None:
        super().__init__("the CA is not initialised: run `chargeline pki init`")


class UnknownCertificate(CAError):
    def __init__(self, serial_hex: str) -> None:
        super().__init__(f"no certificate with serial {serial_hex[:48]}")


class AlreadyRevoked(CAError):
    def __init__(self, serial_hex: str) -> None:
        super().__init__(f"certificate {serial_hex} is already revoked")
