"""``VersionAdapter``: what the sans-I/O protocol needs of one OCPP version.

An adapter is pure: it translates schema-valid payloads (the protocol validates them against
``schemas`` first) into the platform's vocabulary and back, and never touches a socket or a clock.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from charging.commands import Command, CommandResult
from charging.events import Event
from charging.outcomes import Decision
from ocpp_edge.frames import Dialect
from ocpp_edge.schemas import Schemas


@runtime_checkable
class VersionAdapter(Protocol):
    """One OCPP version: its names, its schemas and its four translations."""

    @property
    def version(self) -> str:
        """The version as the platform names it (``"1.6"``, ``"2.0.1"``, ``"2.1"``)."""
        ...

    @property
    def subprotocol(self) -> str:
        """The WebSocket subprotocol that selects the version (``"ocpp1.6"``, ...)."""
        ...

    @property
    def dialect(self) -> Dialect:
        """The version's CALLERROR codes and message types."""
        ...

    @property
    def schemas(self) -> Schemas:
        """The version's JSON schema validators (one per process)."""
        ...

    @property
    def station_actions(self) -> frozenset[str]:
        """The station-initiated actions ``to_event`` translates."""
        ...

    def to_event(self, station_id: str, action: str, payload: dict[str, Any]) -> Event:
        """Translate a station request (one of ``station_actions``).

        Raises:
            KeyError: ``action`` is not station-initiated in this version.
            ValueError: a value the schema admits but the platform cannot read.
        """
        ...

    def action_of(self, event: Event) -> str:
        """The action that reported ``event`` (whose response schema the reply must meet)."""
        ...

    def to_reply(self, event: Event, decision: Decision) -> dict[str, Any]:
        """The CALLRESULT payload answering ``event`` with ``decision``.

        Raises:
            TypeError: the decision does not answer this kind of event.
        """
        ...

    def to_call(self, command: Command) -> tuple[str, dict[str, Any]]:
        """The (action, payload) carrying ``command``.

        Raises:
            UnsupportedError: the version cannot express the command.
            ValueError: a malformed value in the command (e.g. a configuration key).
        """
        ...

    def to_result(self, command: Command, payload: dict[str, Any]) -> CommandResult:
        """Normalise the station's schema-valid answer to ``command``."""
        ...
