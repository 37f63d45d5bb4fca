"""Exceptions raised by the enrollment domain.

Every failure carries a machine-readable reason, so the platform layer can map it to a stable
problem type without parsing messages::

    EnrollmentError
    ├── InvalidTransition      a lifecycle move the state machine refuses
    ├── InvalidSerial          a serial number outside the accepted alphabet or length
    ├── InvalidMac             a MAC address that does not parse
    ├── InvalidMacRange        a MAC pool range that is empty, reversed, multicast or too large
    ├── MacPoolExhausted       an index past the end of a MAC range
    ├── InvalidCode            a security code that cannot be normalised
    ├── QrPayloadError         a label payload that does not decode (see ``QrErrorReason``)
    ├── CsvImportError         a factory CSV refused as a whole (see ``CsvErrorReason``)
    ├── MetadataRefused        device metadata outside its bounds (``enrollment.metadata``)
    └── InvitationError        an invitation token that is unknown, revoked, used or expired
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from enrollment.lifecycle import DeviceState


class EnrollmentError(Exception):
    """Root of every error raised by :mod:`enrollment`."""


class InvalidTransition(EnrollmentError):  # noqa: N818 - the name the house style fixes
    """The lifecycle does not allow ``current -> requested``."""

    def __init__(self, current: DeviceState, requested: DeviceState) -> None:
        self.current = current
        self.requested = requested
        super().__init__(f"device is {current.value}; it cannot become {requested.value}")


class _ReasonError(EnrollmentError):
    """An error whose message is its human-readable reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class InvalidSerial(_ReasonError):  # noqa: N818
    """A serial number was refused; ``reason`` says why."""


class InvalidMac(_ReasonError):  # noqa: N818
    """A MAC address was refused; ``reason`` says why."""


class InvalidMacRange(_ReasonError):  # noqa: N818
    """A MAC address range was refused; ``reason`` says why."""


class MacPoolExhausted(EnrollmentError):  # noqa: N818
    """Every address of a MAC range has been handed out."""

    def __init__(self, size: int, index: int) -> None:
        self.size = size
        self.index = index
        super().__init__(f"MAC range holds {size} addresses; index {index} is past its end")


class InvalidCode(_ReasonError):  # noqa: N818
    """A security code was refused; ``reason`` says why."""


class QrErrorReason(StrEnum):
    """Why a QR payload was refused."""

    UNKNOWN_FORMAT = "unknown_format"
    UNSUPPORTED_VERSION = "unsupported_version"
    WRONG_KIND = "wrong_kind"
    TRUNCATED = "truncated"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    BAD_SERIAL = "bad_serial"
    BAD_CODE = "bad_code"
    SERIAL_MISMATCH = "serial_mismatch"
    MISSING_SERIAL = "missing_serial"


class QrPayloadError(EnrollmentError):
    """A QR payload was refused; ``reason`` is stable, ``detail`` is for people."""

    def __init__(self, reason: QrErrorReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")


class CsvErrorReason(StrEnum):
    """Why a factory CSV was refused as a whole."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    TOO_MANY_ROWS = "too_many_rows"
    ENCODING = "encoding"
    MISSING_COLUMNS = "missing_columns"
    DUPLICATE_COLUMNS = "duplicate_columns"
    MALFORMED = "malformed"


class CsvImportError(EnrollmentError):
    """A factory CSV was refused as a whole; no row of it was imported."""

    def __init__(self, reason: CsvErrorReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")


class InvitationErrorReason(StrEnum):
    """Why an invitation token was refused."""

    UNKNOWN = "unknown"
    REVOKED = "revoked"
    USED = "used"
    EXPIRED = "expired"


class InvitationError(EnrollmentError):
    """An invitation token was refused; ``reason`` says why."""

    def __init__(self, reason: InvitationErrorReason) -> None:
        self.reason = reason
        super().__init__(f"invitation {reason.value}")


class MetadataRefused(EnrollmentError):  # noqa: N818 - named like the domain's other refusals
    """Metadata outside the bounds; ``where`` is the path of the offending value."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")
