"""A gateway on loopback with the fake core of tests/gateway, for the simulator to talk to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ocpp_edge.server import Gateway, GatewayOptions
from tests.gateway.conftest import PASSWORD, FakeGatekeeper, FakeSink, RunningGateway

STATIONS = {f"SIM-{n:04d}": PASSWORD for n in range(1, 5)}


@pytest.fixture
async def gateway() -> AsyncIterator[RunningGateway]:
    sink = FakeSink()
    gateway = Gateway(FakeGatekeeper(dict(STATIONS)), sink, GatewayOptions(call_timeout=2.0))
    server = await gateway.listen("127.0.0.1", 0)
    yield RunningGateway(gateway, sink, f"ws://127.0.0.1:{Gateway.port_of(server)}")
    await gateway.close()
    await asyncio.sleep(0)


# The platform in-process (edge with the real core, and the API) for the end-to-end test.
from tests.e2e.conftest import running  # noqa: E402, F401
