"""Commands across processes through Redis: the API reaches the edge node holding a station.

Each edge node records ``station id -> node id`` in one Redis hash while it holds a station and
listens on its own channel. The API looks the node up, publishes the command there and waits on
a reply list for the answer (``BLPOP``), so the caller sees the station's own answer, or the same
errors as in one process (offline, timeout, the station's CALLERROR).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from redis.asyncio import Redis

from app.command_wire import WireError, decode_command, decode_result, encode_command, encode_result
from charging.commands import Command, CommandResult
from ocpp_edge.errors import InvalidReplyError, UnsupportedError
from ocpp_edge.server import Gateway
from ocpp_edge.session import CommandTimeout, StationCallError, StationOffline

log = logging.getLogger(__name__)

ROUTES = "chargeline:station-node"
REPLY_TTL_S = 60
# Delete the route only if it still names this node: a station that moved on to another node
# must keep its new route when the old connection's close arrives late.
_FORGET = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""


# Record this node as the station's holder; answer the node that held it before, if any.
_CLAIM = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return old
"""
MOVED = "connected to another node"


def node_channel(node_id: str) -> str:
    return f"chargeline:node:{node_id}"


def reply_key(request_id: str) -> str:
    return f"chargeline:reply:{request_id}"


class RedisCommandBus:
    """The API side: sends a command to whichever edge node holds the station."""

    def __init__(self, redis: Redis, *, default_timeout: float = 30.0) -> None:
        self.redis = redis
        self.default_timeout = default_timeout

    async def send(
        self, station_id: str, command: Command, *, timeout: float | None = None
    ) -> CommandResult:
        timeout = timeout or self.default_timeout
        node = await self.redis.hget(ROUTES, station_id)
        if node is None:
            raise StationOffline(station_id)
        request_id = uuid.uuid4().hex
        message = json.dumps(
            {
                "request_id": request_id,
                "station_id": station_id,
                "timeout": timeout,
                "command": encode_command(command),
            }
        )
        receivers = await self.redis.publish(node_channel(_text(node)), message)
        if receivers == 0:
            raise StationOffline(station_id)
        answer = await self.redis.blpop([reply_key(request_id)], timeout=timeout + 2)
        if answer is None:
            raise CommandTimeout(station_id, type(command).__name__, timeout)
        return _unpack(station_id, type(command).__name__, timeout, json.loads(answer[1]))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _unpack(station_id: str, name: str, timeout: float, reply: dict[str, Any]) -> CommandResult:
    kind = reply.get("error")
    if kind is None:
        return decode_result(reply["result"])
    if kind == "offline":
        raise StationOffline(station_id)
    if kind == "timeout":
        raise CommandTimeout(station_id, name, timeout)
    if kind == "station":
        raise StationCallError(station_id, reply["code"], reply["description"])
    if kind == "unsupported":
        raise ValueError(reply["description"])
    raise RuntimeError(f"the edge node failed: {reply.get('description', kind)}")


class EdgeRelay:
    """The edge side: keeps the routes of its stations and runs commands sent to this node."""

    def __init__(self, redis: Redis, gateway: Gateway, node_id: str | None = None) -> None:
        self.redis = redis
        self.gateway = gateway
        self.node_id = node_id or uuid.uuid4().hex
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen())
        await self._ready.wait()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._running):
            task.cancel()
        stations = list(self.gateway.sessions)
        for station_id in stations:
            await self.forget(station_id)

    async def remember(self, station_id: str) -> None:
        """Route the station here; the node that held it before closes its connection."""
        old = await self.redis.eval(_CLAIM, 1, ROUTES, station_id, self.node_id)
        if old is not None and _text(old) != self.node_id:
            release = json.dumps({"release": station_id, "node": self.node_id})
            await self.redis.publish(node_channel(_text(old)), release)

    async def release(self, station_id: str) -> None:
        """Another node took the station over: close the connection here, unless it came
        back to this node meanwhile."""
        holder = await self.redis.hget(ROUTES, station_id)
        if holder is not None and _text(holder) != self.node_id:
            await self.gateway.disconnect(station_id, MOVED, code=1000)

    async def forget(self, station_id: str) -> None:
        await self.redis.eval(_FORGET, 1, ROUTES, station_id, self.node_id)

    async def on_connection(self, what: str, station_id: str, _admission: object) -> None:
        """A ``PlatformSink`` listener keeping the route table current."""
        if what == "connected":
            await self.remember(station_id)
        else:
            await self.forget(station_id)

    async def _listen(self) -> None:
        async with self.redis.pubsub() as pubsub:
            await pubsub.subscribe(node_channel(self.node_id))
            self._ready.set()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                task = asyncio.create_task(self._run(message["data"]))
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _run(self, data: bytes | str) -> None:
        try:
            request = json.loads(data)
            if "release" in request:
                await self.release(str(request["release"]))
                return
            request_id = str(request["request_id"])
            station_id = str(request["station_id"])
            timeout = float(request["timeout"])
            command = decode_command(request["command"])
        except (ValueError, KeyError, TypeError, WireError) as exc:
            log.warning("dropped a malformed command message: %s", exc)
            return
        reply: dict[str, Any]
        try:
            result = await self.gateway.send(station_id, command, timeout=timeout)
            reply = {"result": encode_result(result)}
        except StationOffline:
            reply = {"error": "offline"}
        except CommandTimeout:
            reply = {"error": "timeout"}
        except StationCallError as exc:
            reply = {"error": "station", "code": exc.code, "description": exc.description}
        except (UnsupportedError, InvalidReplyError, ValueError) as exc:
            reply = {"error": "unsupported", "description": str(exc)}
        except Exception as exc:
            log.exception("command %s to %s failed", type(command).__name__, station_id)
            reply = {"error": "internal", "description": type(exc).__name__}
        key = reply_key(request_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, json.dumps(reply))
            pipe.expire(key, REPLY_TTL_S)
            await pipe.execute()
