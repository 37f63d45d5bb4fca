"""What the ownership services need of the platform, as small ports the platform implements.

- :class:`~enrollment.service.AuditTrail`: the audit log (``app.audit.record``);
- :class:`CertificateIssuer`: the CA's user hierarchy, issuing and revoking user certificates;
- :class:`PairingGate`: the pairing-attempt throttle, which raises
  :class:`~enrollment.ownership.errors.LockedOut` once a limit is reached;
- :class:`CardWithdrawal`: withdrawing a member's RFID cards from a station (``charging``).

Actors are passed through as the platform gave them (``Any``): the domain only hands them on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from enrollment.service import AuditTrail

__all__ = [
    "AuditTrail",
    "CardWithdrawal",
    "CertificateIssuer",
    "IssuedUserCertificate",
    "PairingGate",
]


class IssuedUserCertificate(Protocol):
    @property
    def serial_hex(self) -> str: ...


IssuedT_co = TypeVar("IssuedT_co", bound=IssuedUserCertificate, covariant=True)
AttemptT = TypeVar("AttemptT")


class CertificateIssuer(Protocol[IssuedT_co]):
    """Short-lived user certificates bound to stations by their SAN."""

    def issue_user_certificate(
        self,
        session: Session,
        csr_pem: str,
        *,
        user_id: str,
        station_ids: list[str],
        validity: timedelta,
        actor: Any,
        now: datetime,
    ) -> IssuedT_co:
        """Issue (audited by the issuer); CSR refusals raise the issuer's own errors."""
        ...

    def revoke_user_certificate(
        self, session: Session, serial_hex: str, *, actor: Any, now: datetime
    ) -> bool:
        """Revoke for an affiliation change; False when unknown or revoked already."""
        ...


class PairingGate(Protocol[AttemptT]):
    """Counts pairing attempts per (device, user), per user and per device, in transactions of
    its own on ``engine``."""

    def admit(self, engine: Engine, serial: str, user_id: str, *, now: datetime) -> AttemptT:
        """Take one attempt. Raises :class:`~enrollment.ownership.errors.LockedOut`."""
        ...

    def failed(self, engine: Engine, attempt: AttemptT, *, now: datetime, actor: Any) -> None: ...

    def succeeded(self, engine: Engine, attempt: AttemptT) -> None: ...


class CardWithdrawal(Protocol):
    """Withdraw every card ``user_id`` holds from the station; the card values."""

    def __call__(self, session: Session, serial: str, user_id: str) -> list[str]: ...
