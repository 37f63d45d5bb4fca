"""The sans-I/O OCPP-J connection: text frames and time in, events and frames out.

One ``StationProtocol`` per WebSocket connection. It never touches a socket nor a clock: the
session feeds it each received text message with the current time and writes the frames it
returns.

    received = protocol.receive(text, now)
    match received:
        case IncomingCall(message_id, action, event):
            decision = core.decide(event)
            await ws.send(protocol.reply(message_id, event, decision))
        case ErrorToSend(frame):
            await ws.send(frame)
        case CommandAnswered() | CommandFailed():
            ...  # resolve the command's future; send ``received.frame`` if set (2.1)

Commands: OCPP-J allows one outstanding CALL per direction (1.6 4.1.1, 2.0.1 Part 4 4.1.1).
``send`` raises ``BusyError`` while a CALL is outstanding; the session queues commands (an
``asyncio.Lock`` held from ``send`` until the answer or the timeout) and the protocol only
enforces the rule. ``expire(now)`` reports the CALL once it is past ``call_timeout``.

Bad input never raises: ``receive`` answers every CALL with either ``IncomingCall`` or an
``ErrorToSend`` carrying the version's CALLERROR, and keeps the connection.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from charging.commands import Command, CommandResult
from charging.events import Event
from charging.outcomes import Decision
from ocpp_edge import frames
from ocpp_edge.adapters import ADAPTERS, VersionAdapter
from ocpp_edge.errors import BusyError, FrameError, InvalidReplyError
from ocpp_edge.frames import Call, CallResult, Dialect
from ocpp_edge.schemas import Schemas

SUBPROTOCOLS = {subprotocol: adapter.version for subprotocol, adapter in ADAPTERS.items()}
"""Subprotocol -> version, as the gateway offers them (from ``ADAPTERS``)."""
VERSIONS = tuple(SUBPROTOCOLS.values())
_BY_VERSION: dict[str, VersionAdapter] = {adapter.version: adapter for adapter in ADAPTERS.values()}


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """A valid station request; answer it with ``StationProtocol.reply``."""

    message_id: str
    action: str
    event: Event


@dataclass(frozen=True, slots=True)
class IncomingSend:
    """A valid OCPP 2.1 SEND: an event that gets no answer."""

    message_id: str
    action: str
    event: Event


@dataclass(frozen=True, slots=True)
class ErrorToSend:
    """Bad input, answered with ``frame`` (a CALLERROR); the connection stays open."""

    frame: str
    code: str
    description: str


@dataclass(frozen=True, slots=True)
class CommandAnswered:
    message_id: str
    command: Command
    result: CommandResult


@dataclass(frozen=True, slots=True)
class CommandFailed:
    """The station answered a command with a CALLERROR, or with a CALLRESULT that breaks the
    schema; in 2.1 the latter is reported back with ``frame`` (a CALLRESULTERROR) to send."""

    message_id: str
    command: Command
    code: str
    description: str
    frame: str | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    """Nothing to do (an answer to an unknown id, a broken 2.1 SEND, ...)."""

    reason: str


Received = IncomingCall | IncomingSend | ErrorToSend | CommandAnswered | CommandFailed | Ignored


@dataclass(frozen=True, slots=True)
class _Pending:
    message_id: str
    action: str
    command: Command
    deadline: float


def _new_id() -> str:
    return str(uuid.uuid4())


class StationProtocol:
    """One station's OCPP-J connection state (see the module docstring)."""

    __slots__ = (
        "_adapter",
        "_new_id",
        "_pending",
        "_schemas",
        "_station_actions",
        "call_timeout",
        "dialect",
        "last_seen",
        "station_id",
        "version",
    )

    def __init__(
        self,
        version: str,
        station_id: str,
        *,
        call_timeout: float = 30.0,
        new_id: Callable[[], str] = _new_id,
    ) -> None:
        """Raises ``KeyError`` for a version other than ``VERSIONS``."""
        self.version = version
        self.station_id = station_id
        self.call_timeout = call_timeout
        adapter = _BY_VERSION[version]
        self._adapter: VersionAdapter = adapter
        self.dialect: Dialect = adapter.dialect
        self._schemas: Schemas = adapter.schemas
        self._station_actions: frozenset[str] = adapter.station_actions
        self._new_id = new_id
        self._pending: _Pending | None = None
        self.last_seen: float | None = None

    @property
    def pending(self) -> str | None:
        """The message id of the outstanding CALL, if any."""
        return None if self._pending is None else self._pending.message_id

    @property
    def deadline(self) -> float | None:
        """When the outstanding CALL times out (same clock as ``now``)."""
        return None if self._pending is None else self._pending.deadline

    def receive(self, text: str | bytes, now: float) -> Received:
        """Take one text message from the station."""
        self.last_seen = now
        try:
            frame = frames.parse(text, self.dialect)
        except FrameError as exc:
            return self._bad_frame(exc)
        if type(frame) is Call:
            return self._call(frame)
        if type(frame) is CallResult:
            return self._result(frame)
        assert isinstance(frame, frames.CallError)
        return self._error(frame)

    def reply(self, message_id: str, event: Event, decision: Decision) -> str:
        """The CALLRESULT frame answering ``event`` with the core's ``decision``.

        Raises:
            InvalidReplyError: the decision does not fit the event, or the reply breaks the
                schema (send ``error_frame(message_id, "InternalError", ...)`` instead).
        """
        adapter = self._adapter
        try:
            payload = adapter.to_reply(event, decision)
            self._schemas.validate(adapter.action_of(event), payload, response=True)
        except (TypeError, KeyError, FrameError) as exc:
            raise InvalidReplyError(str(exc)) from exc
        return frames.encode_result(message_id, payload)

    def error_frame(self, message_id: str, code: str, description: str) -> str:
        """A CALLERROR frame, e.g. InternalError when the core failed to decide."""
        return frames.encode_error(message_id, code, description)

    def send(self, command: Command, now: float) -> tuple[str, str]:
        """The CALL frame carrying ``command``, and its message id.

        Raises:
            BusyError: a CALL is outstanding.
            UnsupportedError: the version cannot express the command.
            InvalidReplyError: the call breaks the version's schema.
            ValueError: a malformed value in the command (e.g. a configuration key).
        """
        if self._pending is not None:
            raise BusyError(self._pending.message_id)
        action, payload = self._adapter.to_call(command)
        try:
            self._schemas.validate(action, payload, response=False)
        except FrameError as exc:
            raise InvalidReplyError(exc.description) from None
        message_id = self._new_id()
        self._pending = _Pending(message_id, action, command, now + self.call_timeout)
        return message_id, frames.encode_call(message_id, action, payload)

    def expire(self, now: float) -> list[tuple[str, Command]]:
        """The outstanding CALL, if it is past its timeout; it is then forgotten."""
        pending = self._pending
        if pending is None or now < pending.deadline:
            return []
        self._pending = None
        return [(pending.message_id, pending.command)]

    def _answer_error(self, message_id: str | None, code: str, description: str) -> ErrorToSend:
        return ErrorToSend(frames.encode_error(message_id, code, description), code, description)

    def _bad_frame(self, exc: FrameError) -> Received:
        kind = exc.message_type
        if kind in (frames.CALLRESULT, frames.CALLERROR):
            pending = self._pending
            if pending is not None and exc.message_id == pending.message_id:
                self._pending = None
                return CommandFailed(pending.message_id, pending.command, exc.code, exc.description)
            return Ignored(f"malformed answer: {exc.description}")
        if kind in (frames.CALLRESULTERROR, frames.SEND) and kind in self.dialect.message_types:
            return Ignored(f"malformed message: {exc.description}")
        return self._answer_error(exc.message_id, exc.code, exc.description)

    def _call(self, frame: Call) -> Received:
        action = frame.action
        message_id = frame.message_id
        try:
            if action not in self._station_actions:
                dialect = self.dialect
                if self._schemas.knows(action):
                    raise FrameError(
                        dialect.not_supported, f"{action} is not accepted from a station"
                    )
                raise FrameError(dialect.not_implemented, f"unknown action {action[:64]!r}")
            self._schemas.validate(action, frame.payload, response=False)
            event = self._adapter.to_event(self.station_id, action, frame.payload)
        except FrameError as exc:
            return self._refuse(frame, exc.code, exc.description)
        except ValueError as exc:
            return self._refuse(frame, self.dialect.property_constraint, f"{action}: {exc}")
        except Exception as exc:  # a translator bug must not drop the connection
            return self._refuse(frame, self.dialect.internal, f"{action}: {type(exc).__name__}")
        if frame.unconfirmed:
            return IncomingSend(message_id, action, event)
        return IncomingCall(message_id, action, event)

    def _refuse(self, frame: Call, code: str, description: str) -> Received:
        if frame.unconfirmed:  # 2.1 SEND is never answered
            return Ignored(f"invalid SEND {frame.action[:64]}: {description}")
        return self._answer_error(frame.message_id, code, description)

    def _result(self, frame: CallResult) -> Received:
        pending = self._pending
        if pending is None or frame.message_id != pending.message_id:
            return Ignored(f"CALLRESULT for unknown message id {frame.message_id!r}")
        self._pending = None
        try:
            self._schemas.validate(pending.action, frame.payload, response=True)
            result = self._adapter.to_result(pending.command, frame.payload)
        except FrameError as exc:
            return self._failed(pending, exc.code, exc.description)
        except Exception as exc:  # an answer we cannot read is the station's failure
            return self._failed(pending, self.dialect.internal, type(exc).__name__)
        return CommandAnswered(pending.message_id, pending.command, result)

    def _failed(self, pending: _Pending, code: str, description: str) -> CommandFailed:
        frame = None
        if frames.CALLRESULTERROR in self.dialect.message_types:
            frame = frames.encode_error(pending.message_id, code, description, result_error=True)
        return CommandFailed(pending.message_id, pending.command, code, description, frame)

    def _error(self, frame: frames.CallError) -> Received:
        if frame.result_error:
            return Ignored(
                f"station refused our answer to {frame.message_id!r}: {frame.code} "
                f"{frame.description[:200]}"
            )
        pending = self._pending
        if pending is None or frame.message_id != pending.message_id:
            return Ignored(f"CALLERROR for unknown message id {frame.message_id!r}")
        self._pending = None
        return CommandFailed(pending.message_id, pending.command, frame.code, frame.description)
