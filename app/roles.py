"""Process roles: the OCPP edge (gateway + charging core) and the API, alone or together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import uvicorn
from redis.asyncio import Redis

from app.clock import utcnow
from app.command_bus import EdgeRelay, RedisCommandBus
from app.edge import LocalCommandBus, PlatformGatekeeper, PlatformSink, station_passwords
from app.main import create_app
from app.owners import sync as owners_sync
from app.platform import Platform
from charging.async_core import AsyncChargingCore
from charging.events import Event
from charging.outcomes import Decision
from charging.service import ChargingCore
from ocpp_edge.server import Gateway, GatewayOptions


class CoreAdapter:
    """The async charging core as the sink's port, with the platform's clock."""

    def __init__(self, core: AsyncChargingCore) -> None:
        self.core = core

    async def handle(self, event: Event) -> Decision:
        return await self.core.handle(event, now=utcnow())

    async def connected(self, station_id: str, version: str) -> None:
        await self.core.mark_online(station_id, version, now=utcnow())

    async def disconnected(self, station_id: str) -> None:
        await self.core.mark_offline(station_id, now=utcnow())


@dataclass
class Edge:
    gateway: Gateway
    core: AsyncChargingCore
    sink: PlatformSink
    gatekeeper: PlatformGatekeeper
    ocpp_port: int


@contextlib.asynccontextmanager
async def running_edge(platform: Platform) -> AsyncIterator[Edge]:
    """Start the gateway on the OCPP port with the charging core behind it."""
    settings = platform.settings
    passwords = station_passwords()
    core = AsyncChargingCore(
        ChargingCore(
            platform.engine, passwords=passwords, heartbeat_interval=settings.heartbeat_interval
        )
    )
    await core.start()
    sink = PlatformSink(CoreAdapter(core))
    owners_sync.attach(platform, sink)
    gatekeeper = PlatformGatekeeper(
        platform.engine, passwords, auto_register=settings.auto_register_stations
    )
    gateway = Gateway(
        gatekeeper,
        sink,
        GatewayOptions(
            call_timeout=settings.command_timeout, max_frame_bytes=settings.max_ocpp_frame_bytes
        ),
    )
    relay: EdgeRelay | None = None
    try:
        if settings.redis_url:
            relay = EdgeRelay(Redis.from_url(settings.redis_url), gateway)
            await relay.start()
            sink.listeners.append(relay.on_connection)
        server = await gateway.listen(settings.ocpp_host, settings.ocpp_port)
        platform.commands = LocalCommandBus(gateway)
        yield Edge(gateway, core, sink, gatekeeper, Gateway.port_of(server))
    finally:
        platform.commands = None
        await gateway.close()
        if relay is not None:
            await relay.aclose()
            await relay.redis.aclose()
        await core.aclose()


@contextlib.asynccontextmanager
async def running_api(platform: Platform) -> AsyncIterator[uvicorn.Server]:
    config = uvicorn.Config(
        create_app(platform=platform),
        host=platform.settings.api_host,
        port=platform.settings.api_port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    redis = None
    if platform.commands is None and platform.settings.redis_url:
        redis = Redis.from_url(platform.settings.redis_url)
        platform.commands = RedisCommandBus(
            redis, default_timeout=platform.settings.command_timeout
        )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                await task
                raise RuntimeError("the API server stopped during start-up")
            await asyncio.sleep(0.02)
        yield server
    finally:
        server.should_exit = True
        await task
        if redis is not None:
            platform.commands = None
            await redis.aclose()


def bound_port(server: uvicorn.Server) -> int:
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return port
