"""One station's connection: feeds frames to the sans-I/O protocol and the core, runs commands.

Handlers stay thin: translate (the protocol does it), hand the event to the sink, send the
reply. No business logic lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from charging.commands import Command, CommandResult
from charging.events import Event
from charging.outcomes import Decision
from ocpp_edge.admission import Admission
from ocpp_edge.errors import InvalidReplyError, OcppEdgeError
from ocpp_edge.protocol import (
    CommandAnswered,
    CommandFailed,
    ErrorToSend,
    IncomingCall,
    IncomingSend,
    StationProtocol,
)

log = logging.getLogger(__name__)


class EventSink(Protocol):
    """The platform side of the gateway: decides on events and hears of connections."""

    async def handle(self, event: Event) -> Decision: ...

    async def connected(self, station_id: str, version: str, admission: Admission) -> None: ...

    async def disconnected(self, station_id: str) -> None: ...


class StationOffline(OcppEdgeError):
    """No connection holds the station (or it closed while a command was waiting)."""

    def __init__(self, station_id: str) -> None:
        super().__init__(f"station {station_id} is not connected")
        self.station_id = station_id


class CommandTimeout(OcppEdgeError):
    def __init__(self, station_id: str, action: str, timeout: float) -> None:
        super().__init__(f"station {station_id} did not answer {action} within {timeout:g} s")
        self.station_id = station_id


class StationCallError(OcppEdgeError):
    """The station answered a command with a CALLERROR; ``code`` is its OCPP error code."""

    def __init__(self, station_id: str, code: str, description: str) -> None:
        super().__init__(f"station {station_id} answered {code}: {description}")
        self.code = code
        self.description = description


class StationSession:
    """Serves one connection. Slotted, and the command lock and waiting map are made on the
    first command: a fleet's connections are mostly idle and mostly never get one."""

    __slots__ = (
        "_command_lock",
        "_waiting",
        "admission",
        "connection",
        "protocol",
        "sink",
        "station_id",
    )

    def __init__(
        self,
        connection: ServerConnection,
        protocol: StationProtocol,
        sink: EventSink,
        admission: Admission,
    ) -> None:
        self.connection = connection
        self.protocol = protocol
        self.sink = sink
        self.admission = admission
        self.station_id = protocol.station_id
        self._command_lock: asyncio.Lock | None = None
        self._waiting: dict[str, asyncio.Future[CommandResult]] | None = None

    async def run(self) -> None:
        """Serve the station until it disconnects."""
        clock = asyncio.get_running_loop().time
        receive = self.protocol.receive
        connection = self.connection
        send = connection.send
        try:
            async for message in connection:
                if type(message) is not str:
                    await connection.close(1003, "OCPP-J uses text frames only")
                    break
                received = receive(message, clock())
                kind = type(received)
                if kind is IncomingCall:
                    await send(await self._answer(received))  # type: ignore[arg-type]
                elif kind is ErrorToSend:
                    await send(received.frame)  # type: ignore[union-attr,arg-type]
                elif kind is CommandAnswered or kind is CommandFailed:
                    self._resolve(received)  # type: ignore[arg-type]
                elif kind is IncomingSend:
                    await self.sink.handle(received.event)  # type: ignore[union-attr]
        except ConnectionClosed:
            pass
        finally:
            for future in (self._waiting or {}).values():
                if not future.done():
                    future.set_exception(StationOffline(self.station_id))

    async def _answer(self, call: IncomingCall) -> str:
        try:
            decision = await self.sink.handle(call.event)
            return self.protocol.reply(call.message_id, call.event, decision)
        except InvalidReplyError as exc:
            log.error("reply to %s from %s broke the schema: %s", call.action, self.station_id, exc)
            description = "the platform could not build a valid answer"
        except Exception:
            log.exception("handling %s from %s failed", call.action, self.station_id)
            description = f"the platform failed to process {call.action}"
        return self.protocol.error_frame(
            call.message_id, self.protocol.dialect.internal, description
        )

    def _resolve(self, received: CommandAnswered | CommandFailed) -> None:
        future = (self._waiting or {}).get(received.message_id)
        if future is None or future.done():
            return
        if isinstance(received, CommandAnswered):
            future.set_result(received.result)
        else:
            future.set_exception(
                StationCallError(self.station_id, received.code, received.description)
            )
            if received.frame:
                asyncio.ensure_future(self._send_quietly(received.frame))

    async def _send_quietly(self, frame: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.connection.send(frame)

    async def call(self, command: Command, timeout: float) -> CommandResult:
        """Send ``command`` and wait for the station's answer (one CALL at a time)."""
        loop = asyncio.get_running_loop()
        if self._command_lock is None:
            self._command_lock = asyncio.Lock()
            self._waiting = {}
        waiting = self._waiting
        assert waiting is not None
        async with self._command_lock:
            message_id, frame = self.protocol.send(command, loop.time())
            future: asyncio.Future[CommandResult] = loop.create_future()
            waiting[message_id] = future
            try:
                try:
                    await self.connection.send(frame)
                except ConnectionClosed as exc:
                    raise StationOffline(self.station_id) from exc
                return await asyncio.wait_for(future, timeout)
            except TimeoutError as exc:
                self.protocol.expire(float("inf"))
                raise CommandTimeout(self.station_id, type(command).__name__, timeout) from exc
            finally:
                waiting.pop(message_id, None)
                if future.done() and not future.cancelled():
                    future.exception()  # failed by a closing reader while the send failed too

    async def close(self, code: int, reason: str) -> None:
        await self.connection.close(code, reason)
