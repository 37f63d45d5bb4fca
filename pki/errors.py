"""Errors raised by the PKI library.

Every failure raises; nothing returns ``False``. The tree::

    PkiError
    +-- CsrRejected          a CSR that must not be signed (``.reason`` names why)
    +-- IssuanceRefused      a signing request the CA itself refuses (wrong issuer, bad serial)
    +-- ChainInvalid         a certificate or chain that does not verify (``.reason``)
    +-- ChainTooLong         a PEM chain over the size a station accepts
    +-- CertificateRevoked   a certificate that verifies but has been revoked
    +-- KeyProtectionError   a sealed key that cannot be opened (tampered, wrong key, KMS error)
"""

from __future__ import annotations


class PkiError(Exception):
    """Root of every error the PKI library raises."""


class _ReasonedError(PkiError):
    """A PKI error with a human-readable ``reason``, also used as the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CsrRejected(_ReasonedError):  # noqa: N818
    """A certificate signing request was refused; ``reason`` says what is wrong with it."""


class IssuanceRefused(_ReasonedError):  # noqa: N818
    """The CA refuses to sign: wrong issuer for the profile, serial out of range, expired CA."""


class ChainInvalid(_ReasonedError):  # noqa: N818
    """A certificate does not verify: expired, not yet valid, unknown issuer, wrong EKU, ..."""


class ChainTooLong(_ReasonedError):  # noqa: N818
    """A PEM chain is longer than a station accepts (OCPP ``certificateChain``, 10,000)."""


class CertificateRevoked(PkiError):  # noqa: N818 (name set by STYLE.md)
    """A certificate that chains correctly but whose serial number has been revoked."""

    def __init__(self, serial_number: int) -> None:
        super().__init__(f"certificate {serial_number:x} is revoked")
        self.serial_number = serial_number


class KeyProtectionError(PkiError):
    """A sealed private key could not be opened or sealed."""
