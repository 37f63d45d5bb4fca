"""What the rollout service needs from the outside, as ports (``app`` wires real ones)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from charging.commands import Command
from firmware.tables import FirmwareImageRow

Protocol_ = Literal["https", "ftp"]

# Statuses an ``Answer`` carries besides the station's own (Accepted, Rejected, ...).
OFFLINE = "Offline"
TIMEOUT = "Timeout"
NOT_SUPPORTED = "NotSupported"
ERROR = "Error"


class LocationIssuer(Protocol):
    """Where a station downloads ``image``: a URL valid from ``valid_from`` to ``valid_until``
    (retrieveDateTime through every retry), at most 512 characters."""

    def location(
        self,
        *,
        image: FirmwareImageRow,
        station_id: str,
        target_id: int | None,
        protocol: Protocol_,
        valid_from: datetime,
        valid_until: datetime,
    ) -> str: ...


class LogLocations(Protocol):
    """Where a station uploads its log for request ``request_id`` (GetLog / GetDiagnostics)."""

    def log_location(
        self, *, station_id: str, request_id: int, target_id: int | None, now: datetime
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class Answer:
    """A station's answer to a command, or why there was none.

    ``status`` is the station's (Accepted, Rejected, InvalidCertificate, RevokedCertificate,
    AcceptedCanceled, ...), or ``Offline``, ``Timeout``, ``NotSupported`` (a CALLERROR
    NotSupported / NotImplemented, or a command the station's version cannot express), ``Error``.
    """

    status: str
    payload: dict[str, Any] = field(default_factory=dict)
    detail: str = ""


class StationLink(Protocol):
    """Sends a command to a station wherever it is connected; never raises for the station's
    own failures (they come back as an ``Answer``)."""

    async def send(self, station_id: str, command: Command) -> Answer: ...


class RootSource(Protocol):
    """The manufacturer root (PEM) a family's stations verify images against."""

    def manufacturer_root(self, family_id: int) -> str: ...
