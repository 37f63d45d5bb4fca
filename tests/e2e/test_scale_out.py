"""An API process and an edge process sharing the database and a real Redis."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from redis.asyncio import Redis

from app.command_bus import ROUTES
from app.platform import build_platform
from app.roles import bound_port, running_api, running_edge
from tests import conftest
from tests.conftest import make_settings
from tests.e2e.conftest import RunningPlatform, basic
from tests.e2e.http import api_client
from tests.eventually import eventually
from tests.factories import admin_headers_http

REDIS_URL = conftest.REDIS_URL or ""
pytestmark = pytest.mark.redis


async def test_the_api_reaches_a_station_held_by_another_process(
    tmp_path: Path, database_url: str
) -> None:
    from websockets.asyncio.client import connect

    settings = make_settings(
        tmp_path,
        database_url,
        ocpp_port=0,
        ocpp_tls_port=0,
        command_timeout=2.0,
        redis_url=REDIS_URL,
    )
    edge_platform, api_platform = build_platform(settings), build_platform(settings)
    async with running_edge(edge_platform) as edge, running_api(api_platform) as api:
        assert api_platform.commands is not None and api_platform.commands is not (
            edge_platform.commands
        )
        RunningPlatform(edge_platform, edge, "", "").add_station("CP-FAR")
        url = f"ws://127.0.0.1:{edge.ocpp_port}/ocpp/CP-FAR"
        async with api_client(f"http://127.0.0.1:{bound_port(api)}") as http:
            headers = await admin_headers_http(api_platform, http)
            offline = await http.post("/api/v1/stations/CP-FAR/commands/reset", headers=headers)
            assert offline.status_code == 409
            async with connect(
                url, subprotocols=["ocpp2.0.1"], additional_headers=basic("CP-FAR")
            ) as ws:
                routes = Redis.from_url(REDIS_URL)

                async def routed() -> bool:
                    return await routes.hget(ROUTES, "CP-FAR") is not None

                await eventually(routed, message="the edge never routed CP-FAR")
                await routes.aclose()

                async def answer() -> list[object]:
                    frame = json.loads(await ws.recv())
                    await ws.send(json.dumps([3, frame[1], {"status": "Scheduled"}]))
                    return frame

                response, frame = await asyncio.gather(
                    http.post(
                        "/api/v1/stations/CP-FAR/commands/reset",
                        json={"mode": "OnIdle"},
                        headers=headers,
                    ),
                    answer(),
                )
                assert frame[2:] == ["Reset", {"type": "OnIdle"}]
                assert response.status_code == 200, response.text
                assert response.json()["status"] == "Scheduled"
    edge_platform.close()
    api_platform.close()
