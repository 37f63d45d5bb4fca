"""The platform running in-process: the OCPP edge and the API on free loopback ports."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from app import audit
from app.edge import PlatformGatekeeper, station_passwords
from app.platform import Platform, build_platform
from app.roles import Edge, bound_port, running_api, running_edge, running_ftp
from app.tls import gateway_ssl_context
from charging import registry
from charging.tables import IdTokenRow
from common.clock import utcnow
from ocpp_edge.server import Gateway, GatewayOptions
from tests.conftest import make_settings
from tests.e2e.tls import NOW, PASSWORD, TlsGateway
from tests.gateway.conftest import FakeSink

STATION_PASSWORD = "station-password-0001"


@dataclass
class RunningPlatform:
    platform: Platform
    edge: Edge
    api_url: str
    ocpp_url: str
    ftp_port: int = 0

    def add_station(
        self, station_id: str, password: str = STATION_PASSWORD, profile: int = 1
    ) -> None:
        with Session(self.platform.engine) as session:
            registry.add_station(
                session,
                station_id,
                password,
                passwords=station_passwords(),
                now=utcnow(),
                profile=profile,
            )
            audit.record(session, audit.Actor("test"), "station.add", object_id=station_id)
            session.commit()

    def add_id_token(self, value: str, status: str = "Accepted") -> None:
        with Session(self.platform.engine) as session:
            session.add(IdTokenRow(value=value, status=status))
            session.commit()


def basic(station_id: str, password: str = STATION_PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@contextlib.asynccontextmanager
async def started_platform(
    tmp_path: Path, database_url: str, **overrides: object
) -> AsyncIterator[RunningPlatform]:
    """Edge and API of one platform on free loopback ports, with test settings + overrides."""
    values: dict[str, object] = {
        "ocpp_port": 0,
        "ocpp_tls_port": 0,
        "ftp_port": 0,
        "command_timeout": 1.0,
        "heartbeat_interval": 60,
    }
    values.update(overrides)
    platform = build_platform(make_settings(tmp_path, database_url, **values))
    try:
        async with (
            running_edge(platform) as edge,
            running_api(platform) as api,
            running_ftp(platform) as ftp,
        ):
            yield RunningPlatform(
                platform,
                edge,
                f"http://127.0.0.1:{bound_port(api)}",
                f"ws://127.0.0.1:{edge.ocpp_port}/ocpp",
                ftp.address[1],
            )
    finally:
        platform.close()


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[RunningPlatform]:
    async with started_platform(tmp_path, database_url) as started:
        yield started


@pytest.fixture
async def tls_gateway(platform: Platform, tmp_path: Path) -> AsyncIterator[TlsGateway]:
    platform.ca.initialize(now=NOW)
    with Session(platform.engine) as session:
        for station_id in ("CP-A", "CP-B"):
            registry.add_station(
                session, station_id, PASSWORD, passwords=station_passwords(), now=NOW, profile=2
            )
        session.commit()
    gatekeeper = PlatformGatekeeper(platform.engine, station_passwords(), certificates=platform.ca)
    gateway = Gateway(gatekeeper, FakeSink(), GatewayOptions(call_timeout=2.0))
    server = await gateway.listen("127.0.0.1", 0, gateway_ssl_context(platform.ca))
    (tmp_path / "root.pem").write_text(platform.ca.root_pem())
    yield TlsGateway(platform, gateway, Gateway.port_of(server), tmp_path)
    await gateway.close()
