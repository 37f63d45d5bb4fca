"""A gateway on loopback with a fake core and gatekeeper: real sockets, no database."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from charging.events import (
    AuthorizationRequested,
    Event,
    HeartbeatReceived,
    StationBooted,
    TransactionStarted,
)
from charging.outcomes import (
    Acknowledged,
    AuthorizationDecision,
    AuthorizationStatus,
    BootDecision,
    ClockDecision,
    Decision,
    RegistrationStatus,
    TransactionDecision,
)
from ocpp_edge.admission import (
    Admission,
    HandshakeRequest,
    SecurityProfile,
    check_basic_user,
    check_transport,
)
from ocpp_edge.server import Gateway, GatewayOptions

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PASSWORD = "0123456789abcdef-pass"


@dataclass
class FakeGatekeeper:
    passwords: dict[str, str] = field(default_factory=lambda: {"CP-1": PASSWORD, "CP-2": PASSWORD})

    async def admit(self, request: HandshakeRequest) -> Admission:
        if request.station_id not in self.passwords:
            return Admission.refuse(404, "unknown station")
        reason = check_transport(request, SecurityProfile.BASIC) or check_basic_user(request)
        if reason:
            return Admission.refuse(401, reason)
        if request.password != self.passwords[request.station_id]:
            return Admission.refuse(401, "wrong password")
        return Admission.admit(SecurityProfile.BASIC)


@dataclass
class FakeSink:
    events: list[Event] = field(default_factory=list)
    connections: list[tuple[str, str]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    fail_on: type | None = None

    async def handle(self, event: Event) -> Decision:
        self.events.append(event)
        if self.fail_on is not None and isinstance(event, self.fail_on):
            raise RuntimeError("core failure")
        if isinstance(event, StationBooted):
            return BootDecision(RegistrationStatus.ACCEPTED, 300, NOW)
        if isinstance(event, HeartbeatReceived):
            return ClockDecision(NOW)
        if isinstance(event, AuthorizationRequested):
            return AuthorizationDecision(AuthorizationStatus.ACCEPTED)
        if isinstance(event, TransactionStarted):
            return TransactionDecision(
                transaction_id=7, authorization=AuthorizationDecision(AuthorizationStatus.ACCEPTED)
            )
        return Acknowledged()

    async def connected(self, station_id: str, version: str, admission: Admission) -> None:
        self.connections.append((station_id, version))

    async def disconnected(self, station_id: str) -> None:
        self.gone.append(station_id)


@dataclass
class RunningGateway:
    gateway: Gateway
    sink: FakeSink
    url: str


def basic(station_id: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
async def running() -> AsyncIterator[RunningGateway]:
    sink = FakeSink()
    gateway = Gateway(
        FakeGatekeeper(), sink, GatewayOptions(call_timeout=1.0, max_frame_bytes=8192)
    )
    server = await gateway.listen("127.0.0.1", 0)
    yield RunningGateway(gateway, sink, f"ws://127.0.0.1:{Gateway.port_of(server)}")
    await gateway.close()
    await asyncio.sleep(0)
