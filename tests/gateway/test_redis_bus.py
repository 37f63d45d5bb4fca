"""Commands across processes through a real Redis: API bus -> edge relay -> station."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import connect

from app.command_bus import ROUTES, EdgeRelay, RedisCommandBus, node_channel
from charging.commands import Reset, ResetMode, UnlockConnector
from ocpp_edge.server import Gateway, GatewayOptions
from ocpp_edge.session import CommandTimeout, StationCallError, StationOffline
from tests import conftest
from tests.eventually import eventually
from tests.gateway.conftest import FakeGatekeeper, FakeSink, basic

REDIS_URL = conftest.REDIS_URL or ""
pytestmark = pytest.mark.redis


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    await client.delete(ROUTES)
    yield client
    await client.delete(ROUTES)
    await client.aclose()


class Node:
    def __init__(self, redis: Redis, node_id: str) -> None:
        self.sink = FakeSink()
        self.gateway = Gateway(FakeGatekeeper(), self.sink, GatewayOptions(call_timeout=1.0))
        self.relay = EdgeRelay(redis, self.gateway, node_id)
        self.url = ""

    async def __aenter__(self) -> Node:
        server = await self.gateway.listen("127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{Gateway.port_of(server)}/ocpp"
        await self.relay.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.relay.aclose()
        await self.gateway.close()


async def _route(redis: Redis, station_id: str) -> str | None:
    value = await redis.hget(ROUTES, station_id)
    return value.decode() if value else None


async def _wait_route(redis: Redis, station_id: str, node: str | None) -> None:
    async def routed() -> bool:
        return await _route(redis, station_id) == node

    await eventually(routed, message=f"route of {station_id} never became {node}")


async def test_a_command_crosses_redis_and_returns_the_station_answer(redis: Redis) -> None:
    async with Node(redis, "node-a") as node:
        node.gateway.sink = node.sink
        listener = node.relay.on_connection
        async with connect(
            f"{node.url}/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
        ) as ws:
            await listener("connected", "CP-1", None)
            bus = RedisCommandBus(redis)
            pending = asyncio.create_task(bus.send("CP-1", Reset(ResetMode.IMMEDIATE)))
            frame = json.loads(await ws.recv())
            assert frame[2:] == ["Reset", {"type": "Hard"}]
            await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
            result = await pending
            assert result.status == "Accepted"

            pending = asyncio.create_task(bus.send("CP-1", UnlockConnector(1)))
            frame = json.loads(await ws.recv())
            await ws.send(json.dumps([4, frame[1], "NotSupported", "no", {}]))
            with pytest.raises(StationCallError) as error:
                await pending
            assert error.value.code == "NotSupported"

            with pytest.raises(CommandTimeout):
                await bus.send("CP-1", Reset(), timeout=0.2)


async def test_an_unrouted_station_is_offline(redis: Redis) -> None:
    with pytest.raises(StationOffline):
        await RedisCommandBus(redis).send("CP-NOWHERE", Reset())


async def test_a_route_to_a_dead_node_is_offline(redis: Redis) -> None:
    await redis.hset(ROUTES, "CP-1", "node-gone")
    with pytest.raises(StationOffline):
        await RedisCommandBus(redis).send("CP-1", Reset())


async def test_a_station_routed_but_gone_from_the_node_is_offline(redis: Redis) -> None:
    async with Node(redis, "node-a") as node:
        await node.relay.remember("CP-1")
        with pytest.raises(StationOffline):
            await RedisCommandBus(redis).send("CP-1", Reset())


async def test_a_late_disconnect_of_the_old_node_keeps_the_new_route(redis: Redis) -> None:
    async with Node(redis, "node-a") as a, Node(redis, "node-b") as b:
        await a.relay.on_connection("connected", "CP-1", None)
        await b.relay.on_connection("connected", "CP-1", None)
        await a.relay.on_connection("disconnected", "CP-1", None)
        assert await _route(redis, "CP-1") == "node-b"
        await b.relay.on_connection("disconnected", "CP-1", None)
        await _wait_route(redis, "CP-1", None)


async def test_malformed_messages_on_the_node_channel_are_dropped(redis: Redis) -> None:
    async with Node(redis, "node-a") as node:
        for junk in (
            b"not json",
            json.dumps({"request_id": "1"}),
            json.dumps(
                {
                    "request_id": "1",
                    "station_id": "CP-1",
                    "timeout": 1,
                    "command": {"command": "FormatDisk", "fields": {}},
                }
            ),
        ):
            assert await redis.publish(node_channel("node-a"), junk) == 1
        # The relay still answers after the junk: the node itself says the station is gone
        # (a dead relay would leave the command to time out instead).
        await node.relay.remember("CP-1")
        with pytest.raises(StationOffline):
            await RedisCommandBus(redis).send("CP-1", Reset(), timeout=5)
        assert node.relay._task is not None and not node.relay._task.done()
