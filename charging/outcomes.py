"""What the core decides about a station's event; the adapter turns a decision into the reply.

| event | decision |
|---|---|
| StationBooted | BootDecision |
| HeartbeatReceived | ClockDecision |
| AuthorizationRequested | AuthorizationDecision |
| TransactionStarted / Updated / Ended | TransactionDecision |
| CertificateRequested | CertificateSigningDecision |
| DataTransferReceived | DataTransferDecision |
| every other event | Acknowledged |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from charging.events import IdToken


class RegistrationStatus(StrEnum):
    """BootNotification answer (1.6 RegistrationStatus, 2.0.1 RegistrationStatusEnumType)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class AuthorizationStatus(StrEnum):
    """2.0.1 AuthorizationStatusEnumType; 1.6 knows only the first five (others become Invalid)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"
    NO_CREDIT = "NoCredit"
    NOT_ALLOWED_TYPE_EVSE = "NotAllowedTypeEVSE"
    NOT_AT_THIS_LOCATION = "NotAtThisLocation"
    NOT_AT_THIS_TIME = "NotAtThisTime"
    UNKNOWN = "Unknown"


class DataTransferStatus(StrEnum):
    """DataTransfer answer (1.6 DataTransferStatus, 2.0.1 DataTransferStatusEnumType)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_MESSAGE_ID = "UnknownMessageId"
    UNKNOWN_VENDOR_ID = "UnknownVendorId"


@dataclass(frozen=True, slots=True)
class BootDecision:
    """``interval`` is the heartbeat interval when accepted, the retry delay otherwise (s)."""

    status: RegistrationStatus
    interval: int
    now: datetime


@dataclass(frozen=True, slots=True)
class ClockDecision:
    """The platform's current time, as a Heartbeat answer."""

    now: datetime


@dataclass(frozen=True, slots=True)
class AuthorizationDecision:
    """1.6 IdTagInfo / 2.0.1 IdTokenInfoType; ``group`` is the 1.6 parentIdTag."""

    status: AuthorizationStatus
    expiry: datetime | None = None
    group: IdToken | None = None


@dataclass(frozen=True, slots=True)
class TransactionDecision:
    """``transaction_id`` is required for a 1.6 StartTransaction and unused elsewhere;
    ``authorization`` answers the transaction's id token, when it has one."""

    transaction_id: int | None = None
    authorization: AuthorizationDecision | None = None


@dataclass(frozen=True, slots=True)
class CertificateSigningDecision:
    """Whether a CSR was accepted for signing (the certificate follows as SendCertificate)."""

    accepted: bool


@dataclass(frozen=True, slots=True)
class DataTransferDecision:
    status: DataTransferStatus
    data: str | None = None


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """For events whose reply carries nothing."""


Decision = (
    BootDecision
    | ClockDecision
    | AuthorizationDecision
    | TransactionDecision
    | CertificateSigningDecision
    | DataTransferDecision
    | Acknowledged
)
