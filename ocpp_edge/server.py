"""The WebSocket server at ``/ocpp/{station_id}``: subprotocols, authentication, connections.

It uses the ``websockets`` library directly (not an ASGI server) because the handshake needs the
TLS peer certificate. One ``Gateway`` serves a plain port (security profile 1) and, given an SSL
context, a TLS port (profiles 2 and 3); both share the same registry of connections, so a
station reconnecting on either replaces its older connection.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from charging.commands import Command, CommandResult
from common.http_basic import MalformedBasic, basic_credentials
from ocpp_edge.admission import STATION_ID, Admission, HandshakeRequest
from ocpp_edge.protocol import SUBPROTOCOLS, StationProtocol
from ocpp_edge.session import EventSink, StationOffline, StationSession

log = logging.getLogger(__name__)

PATH_PREFIX = "/ocpp/"
RETRY_AFTER_SECONDS = 5
"""Told to a station refused with 503 (the platform cannot decide now, e.g. no database)."""


@dataclass(frozen=True, slots=True)
class Handshake:
    """What the opening handshake decided about a connection."""

    station_id: str
    version: str
    admission: Admission


class StationConnection(ServerConnection):
    """A station's WebSocket connection, carrying its :class:`Handshake` once admitted."""

    admitted: Handshake | None = None


class Gatekeeper(Protocol):
    """Decides whether a handshake may proceed (see ``ocpp_edge.admission``)."""

    async def admit(self, request: HandshakeRequest) -> Admission: ...


@dataclass(frozen=True, slots=True)
class GatewayOptions:
    call_timeout: float = 30.0
    max_frame_bytes: int = 256 * 1024
    ping_interval: float | None = None


def choose_subprotocol(offered: Sequence[str]) -> str | None:
    """The first OCPP version the station offers that the gateway speaks (RFC 6455 4.2.2)."""
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return None


def _select_subprotocol(
    _connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    chosen = choose_subprotocol(offered)
    return Subprotocol(chosen) if chosen else None


def _offered(headers: Headers) -> list[str]:
    return [
        p.strip()
        for value in headers.get_all("Sec-WebSocket-Protocol")
        for p in value.split(",")
        if p.strip()
    ]


def _plain(status: int, reason: str, headers: dict[str, str] | None = None) -> Response:
    body = (reason + "\n").encode()
    response_headers = Headers(
        {
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Length": str(len(body)),
            "Connection": "close",
        }
    )
    for key, value in (headers or {}).items():
        response_headers[key] = value
    return Response(status, HTTPStatus(status).phrase, response_headers, body)


class Gateway:
    def __init__(
        self, gatekeeper: Gatekeeper, sink: EventSink, options: GatewayOptions | None = None
    ) -> None:
        self.gatekeeper = gatekeeper
        self.sink = sink
        self.options = options or GatewayOptions()
        self.sessions: dict[str, StationSession] = {}
        self._servers: list[Server] = []

    async def listen(
        self, host: str, port: int, ssl_context: ssl.SSLContext | None = None
    ) -> Server:
        server = await serve(
            self._handle,
            host,
            port,
            create_connection=StationConnection,
            ssl=ssl_context,
            process_request=self._process_request,
            select_subprotocol=_select_subprotocol,
            subprotocols=[Subprotocol(name) for name in SUBPROTOCOLS],
            max_size=self.options.max_frame_bytes,
            ping_interval=self.options.ping_interval,
            compression=None,
            server_header=None,
        )
        self._servers.append(server)
        return server

    @staticmethod
    def port_of(server: Server) -> int:
        port: int = next(iter(server.sockets)).getsockname()[1]
        return port

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        if not path.startswith(PATH_PREFIX):
            return _plain(404, "OCPP endpoints live at /ocpp/{station_id}")
        station_id = unquote(path[len(PATH_PREFIX) :])
        if not STATION_ID.fullmatch(station_id):
            return _plain(404, "not a valid station id")
        subprotocol = choose_subprotocol(_offered(request.headers))
        if subprotocol is None:
            return _plain(400, "offer one of the subprotocols ocpp1.6, ocpp2.0.1, ocpp2.1")
        try:
            user, password = basic_credentials(request.headers.get("Authorization")) or (None, None)
        except MalformedBasic:
            user, password = None, None
        ssl_object = connection.transport.get_extra_info("ssl_object")
        certificate = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        remote = connection.remote_address
        admission = await self.gatekeeper.admit(
            HandshakeRequest(
                station_id=station_id,
                basic_user=user,
                password=password,
                tls=ssl_object is not None,
                client_certificate=certificate or None,
                remote=str(remote[0]) if remote else "",
            )
        )
        if not admission.accepted:
            headers = {
                401: {"WWW-Authenticate": 'Basic realm="OCPP", charset="UTF-8"'},
                503: {"Retry-After": str(RETRY_AFTER_SECONDS)},
            }.get(admission.status)
            return _plain(admission.status, admission.reason, headers)
        assert isinstance(connection, StationConnection)
        connection.admitted = Handshake(station_id, SUBPROTOCOLS[subprotocol], admission)
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        assert isinstance(connection, StationConnection) and connection.admitted is not None
        station_id, version, admission = (
            connection.admitted.station_id,
            connection.admitted.version,
            connection.admitted.admission,
        )
        protocol = StationProtocol(version, station_id, call_timeout=self.options.call_timeout)
        session = StationSession(connection, protocol, self.sink, admission)
        older = self.sessions.get(station_id)
        self.sessions[station_id] = session
        if older is not None:
            await older.close(1000, "replaced by a newer connection")
        await self.sink.connected(station_id, version, admission)
        try:
            await session.run()
        finally:
            if self.sessions.get(station_id) is session:
                del self.sessions[station_id]
                await self.sink.disconnected(station_id)

    def is_connected(self, station_id: str) -> bool:
        return station_id in self.sessions

    async def send(
        self, station_id: str, command: Command, *, timeout: float | None = None
    ) -> CommandResult:
        """Send ``command`` to the connected station and return its answer.

        Raises:
            StationOffline, CommandTimeout, StationCallError, UnsupportedError.
        """
        session = self.sessions.get(station_id)
        if session is None:
            raise StationOffline(station_id)
        return await session.call(command, timeout or self.options.call_timeout)

    async def disconnect(self, station_id: str, reason: str, code: int = 1008) -> bool:
        """Close the station's connection (e.g. after its certificate was revoked)."""
        session = self.sessions.get(station_id)
        if session is None:
            return False
        await session.close(code, reason)
        return True
