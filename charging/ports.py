"""What charging's owner-facing services need of the rest of the platform, as small ports.

- :class:`AuditTrail`: the audit log (``app.audit.record`` has its shape);
- :class:`CommandSender`: the command bus that carries a command to the station's connection;
- :class:`Memberships`: who holds which role on which station, and since when. Memberships are
  enrollment's; the platform answers these questions from them, so this package never reads
  another package's tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from charging.commands import Command, CommandResult
from common.audit_trail import AuditTrail

__all__ = ["AuditTrail", "CommandSender", "Memberships", "SessionWindow"]


class CommandSender(Protocol):
    async def send(self, station_id: str, command: Command) -> CommandResult:
        """The station's answer; raises when it is offline, silent or refuses the call."""
        ...


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """A time a user held a role on a station (``ended_at`` None: still holds it), and which of
    the sessions started on it within that time their role shows: all, or their own."""

    station_id: str
    started_at: datetime
    ended_at: datetime | None
    all_sessions: bool
    own_sessions: bool


class Memberships(Protocol):
    def card_stations(self, session: Session, user_id: str) -> list[str]:
        """Serials of the stations where the user may register cards."""
        ...

    def member_stations(self, session: Session, user_id: str) -> set[str]:
        """Serials of the stations where the user holds any role."""
        ...

    def session_windows(self, session: Session, user_id: str) -> Iterable[SessionWindow]:
        """Every time the user held a role, open or closed."""
        ...

    def has_owner_state(self, session: Session, serial: str) -> bool:
        """Whether the station has members or a user CA to keep in step."""
        ...

    def user_ca_state(self, session: Session, serial: str) -> bool | None:
        """Whether the station holds the user CA: None when it needs none, False while pending."""
        ...

    def user_ca_installed(self, session: Session, serial: str, *, now: datetime) -> None:
        """The station accepted the user CA."""
        ...
