"""What the enrollment services need of the platform, as small ports the platform implements.

``app.ca.CertificateAuthority`` is the ``CertificateIssuer``, the gateway's command bus the
``CommandSender``, ``app.audit.AuditLog`` the ``AuditRecorder``; ``app.roles`` wires them.
Actors are the audit log's (``app.audit.Actor``: ``name`` and ``source``); the services name
their own with ``Party``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from charging.commands import Command, CommandResult
from common.audit_trail import AuditTrail as AuditTrail

Clock = Callable[[], datetime]
"""The current time, timezone-aware UTC."""


@dataclass(frozen=True, slots=True)
class Party:
    """An actor the enrollment services name themselves: a station, the platform."""

    name: str
    source: str = ""


class IssuedStationCertificate(Protocol):
    """A signed station certificate: the leaf, the chain a station installs, the root."""

    @property
    def serial_hex(self) -> str: ...
    @property
    def certificate_pem(self) -> str: ...
    @property
    def chain_pem(self) -> str: ...
    @property
    def root_pem(self) -> str: ...
    @property
    def not_after(self) -> datetime: ...


class CertificateIssuer(Protocol):
    """The station CA: signs station CSRs, retires superseded certificates, names the root."""

    def issue_station_certificate(
        self, session: Session, csr_pem: str, *, station_id: str, actor: Any, now: datetime
    ) -> IssuedStationCertificate:
        """Sign ``csr_pem`` (CN = ``station_id``), stored and audited with ``session``.

        Raises ``pki.CsrRejected`` for a refused CSR (audited on its own)."""
        ...

    def retire_superseded(
        self, session: Session, station_id: str, keep_serial_hex: str, *, actor: Any, now: datetime
    ) -> list[str]:
        """Revoke (superseded) the station's other live certificates; their serials."""
        ...

    def root_pem(self) -> str:
        """The operator root, PEM."""
        ...

    def live_station_certificates(
        self, station_id: str | None = None
    ) -> list[tuple[str, datetime]]:
        """``(station id, not after)`` of every live station certificate (of one station)."""
        ...


class CommandSender(Protocol):
    """Sends a command to a connected station and returns its answer.

    Raises whatever the link raises for no answer (offline, timeout, CALLERROR)."""

    async def __call__(self, station_id: str, command: Command) -> CommandResult: ...


class AuditRecorder(Protocol):
    """The audit log: ``record`` writes an entry in its own transaction (it survives the
    caller's rollback), ``add`` into the caller's."""

    def record(
        self,
        actor: Any,
        action: str,
        *,
        object_type: str = "",
        object_id: str = "",
        outcome: str = "success",
        **detail: Any,
    ) -> None: ...

    def add(
        self,
        session: Session,
        actor: Any,
        action: str,
        *,
        object_type: str = "",
        object_id: str = "",
        outcome: str = "success",
        **detail: Any,
    ) -> object: ...
