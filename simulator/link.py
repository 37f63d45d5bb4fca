"""The station's end of the WebSocket: opening it, one CALL at a time, answering the CSMS.

The station sends at most one CALL at a time (OCPP-J 4.1.1), validates every frame it sends
against the version's JSON schemas and checks the CSMS's answers against theirs. CALLs from the
CSMS are schema-checked, answered by the station's ``answer`` function, and what the answer
asks the station to do next is handed to ``on_effect`` once the CALLRESULT is out.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from ocpp_edge import frames
from ocpp_edge.errors import FrameError
from ocpp_edge.schemas import Schemas
from simulator.answers import Effect
from simulator.maintenance import CallRefused
from simulator.stats import FleetStats

Answer = Callable[[str, dict[str, Any]], tuple[dict[str, Any], Effect | None]]


class StationFailure(Exception):
    """The station cannot go on: refused, disconnected, or the CSMS broke the protocol.

    ``refused`` marks a CSMS that said no (handshake refused, BootNotification rejected).
    """

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


class ServerCallError(Exception):
    def __init__(self, action: str, code: str, description: str) -> None:
        super().__init__(f"the CSMS answered {action} with {code}: {description}")
        self.code = code


def station_url(base: str, station_id: str) -> str:
    """``ws://host:port`` -> ``ws://host:port/ocpp/ID``; a base ending in ``/ocpp`` gets the id."""
    base = base.rstrip("/")
    scheme_end = base.find("://") + 3
    path = base[scheme_end:].partition("/")[2]
    return f"{base}/{station_id}" if path else f"{base}/ocpp/{station_id}"


def basic_authorization(station_id: str, password: str) -> str:
    """Security profile 1/2 credentials: user = station id (OCPP 1.6 Security Whitepaper 2.1)."""
    return "Basic " + base64.b64encode(f"{station_id}:{password}".encode()).decode()


async def open_connection(
    url: str,
    version: str,
    station_id: str,
    *,
    password: str | None,
    ssl_context: ssl.SSLContext | None,
    open_timeout: float,
) -> ClientConnection:
    """Open the WebSocket with subprotocol ``ocpp<version>``, or raise ``StationFailure``."""
    headers = {}
    if password is not None:
        headers["Authorization"] = basic_authorization(station_id, password)
    try:
        ws = await connect(
            url,
            subprotocols=[Subprotocol(f"ocpp{version}")],
            additional_headers=headers,
            ssl=ssl_context,
            open_timeout=open_timeout,
            ping_interval=None,
            compression=None,
        )
    except InvalidStatus as exc:
        body = exc.response.body.decode(errors="replace").strip() if exc.response.body else ""
        raise StationFailure(
            f"handshake refused: HTTP {exc.response.status_code} {body}".rstrip(),
            refused=True,
        ) from None
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        raise StationFailure(f"cannot connect to {url}: {exc}") from None
    if ws.subprotocol != f"ocpp{version}":
        await ws.close()
        raise StationFailure(f"the server chose subprotocol {ws.subprotocol!r}")
    return ws


class Link:
    """The frames of one station, over whichever connection it holds; ids run on across them."""

    def __init__(
        self,
        version: str,
        stats: FleetStats,
        *,
        call_timeout: float,
        answer: Answer,
        on_effect: Callable[[Effect], None],
    ) -> None:
        self.stats = stats
        self.call_timeout = call_timeout
        self._answer_with = answer
        self._on_effect = on_effect
        self._dialect = frames.DIALECTS[version]
        self._schemas = Schemas(self._dialect)
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._call_lock = asyncio.Lock()
        self._next_id = 0

    def attach(self, ws: ClientConnection) -> None:
        """Send over ``ws`` from now on."""
        self._ws = ws

    def cancel_pending(self) -> None:
        """The connection is gone: no CALL waiting for an answer will get one."""
        for future in self._pending.values():
            future.cancel()

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL and return the CSMS's (schema-checked) answer.

        Raises:
            StationFailure: no answer in time, or an answer that breaks the schema.
            ServerCallError: the CSMS answered with a CALLERROR.
        """
        self._schemas.validate(action, payload, response=False)  # our own bug if it raises
        loop = asyncio.get_running_loop()
        async with self._call_lock:
            self._next_id += 1
            message_id = str(self._next_id)
            future: asyncio.Future[dict[str, Any]] = loop.create_future()
            self._pending[message_id] = future
            try:
                await self._send(frames.encode_call(message_id, action, payload))
                reply = await asyncio.wait_for(future, self.call_timeout)
            except TimeoutError:
                raise StationFailure(
                    f"no answer to {action} within {self.call_timeout:g} s"
                ) from None
            finally:
                self._pending.pop(message_id, None)
        try:
            self._schemas.validate(action, reply, response=True)
        except FrameError as exc:
            raise StationFailure(f"the CSMS answered with an invalid payload: {exc}") from None
        return reply

    async def _send(self, text: str) -> None:
        assert self._ws is not None
        await self._ws.send(text)
        self.stats.messages_sent += 1

    async def read(self, ws: ClientConnection) -> None:
        """Read frames until the connection closes: answers to our CALLs, and the CSMS's CALLs."""
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                try:
                    frame = frames.parse(message, self._dialect)
                except FrameError as exc:
                    self.stats.errors += 1
                    if exc.message_type == frames.CALL:
                        await self._send(
                            frames.encode_error(exc.message_id, exc.code, exc.description)
                        )
                    continue
                if isinstance(frame, frames.Call):
                    await self._answer(frame)
                    continue
                future = self._pending.get(frame.message_id)
                if future is None or future.done():
                    continue
                if isinstance(frame, frames.CallResult):
                    future.set_result(frame.payload)
                else:
                    future.set_exception(ServerCallError("CALL", frame.code, frame.description))

    async def _answer(self, call: frames.Call) -> None:
        try:
            self._schemas.validate(
                call.action, call.payload, response=False, message_id=call.message_id
            )
            reply, effect = self._answer_with(call.action, call.payload)
            self._schemas.validate(call.action, reply, response=True)
        except FrameError as exc:
            await self._send(frames.encode_error(call.message_id, exc.code, exc.description))
            return
        except CallRefused as exc:
            await self._send(frames.encode_error(call.message_id, exc.code, exc.description))
            return
        except NotImplementedError:
            await self._send(
                frames.encode_error(
                    call.message_id,
                    self._dialect.not_implemented,
                    f"the simulator does not implement {call.action}",
                )
            )
            return
        await self._send(frames.encode_result(call.message_id, reply))
        self.stats.commands_answered += 1
        if effect is not None:
            self._on_effect(effect)
