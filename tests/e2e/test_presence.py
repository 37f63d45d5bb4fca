"""Presence across edges: ``online`` is true exactly while some live edge holds the station.

Issue 9 item 5: after a crash stations stayed online; with two edges the old node's disconnect
marked a station offline while the other node held it, and the old connection stayed open.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import Session
from websockets.asyncio.client import connect

from app.edge import station_passwords
from app.platform import build_platform
from app.roles import running_edge
from charging import registry
from charging.tables import Station
from common.clock import utcnow
from tests import conftest
from tests.conftest import TEST_SECRET, make_settings
from tests.e2e.conftest import STATION_PASSWORD, RunningPlatform, basic
from tests.eventually import eventually

REDIS_URL = conftest.REDIS_URL or ""


def presence(database_url: str, tmp_path: Path, station_id: str) -> tuple[bool, str | None]:
    platform = build_platform(make_settings(tmp_path, database_url))
    try:
        with Session(platform.engine) as session:
            station = session.get(Station, station_id)
            assert station is not None
            return station.online, station.edge_node
    finally:
        platform.close()


@contextmanager
def edge_process(tmp_path: Path, database_url: str, redis_url: str | None) -> Iterator[int]:
    """``chargeline edge`` in its own OS process; yields its plain OCPP port; killed -9 after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGELINE_")}
    env |= {
        "CHARGELINE_MODE": "production",
        "CHARGELINE_SECRET_KEY": TEST_SECRET,
        "CHARGELINE_DATABASE_URL": database_url,
        "CHARGELINE_EDGE_NODE_TTL": "1",
    }
    if redis_url:
        env["CHARGELINE_REDIS_URL"] = redis_url
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "edge", "--data-dir", str(tmp_path / "var")]
        + ["--ocpp-port", "0", "--ocpp-tls-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        seen = ""
        while (found := re.search(r"ws://[\d.]+:(\d+)/ocpp/", seen)) is None:
            line = process.stdout.readline()
            assert line or process.poll() is None, seen
            seen += line
        yield int(found.group(1))
    finally:
        process.send_signal(signal.SIGKILL)  # a crash: nothing is cleaned up
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


async def test_a_crashed_edge_leaves_no_station_online_after_restart(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, ocpp_port=0, ocpp_tls_port=0)
    platform = build_platform(settings)
    with Session(platform.engine) as session:
        registry.add_station(
            session, "CP-CRASH", STATION_PASSWORD, passwords=station_passwords(), now=utcnow()
        )
        session.commit()
    with edge_process(tmp_path, database_url, None) as port:
        url = f"ws://127.0.0.1:{port}/ocpp/CP-CRASH"
        ws = await connect(url, subprotocols=["ocpp1.6"], additional_headers=basic("CP-CRASH"))
        await eventually(lambda: presence(database_url, tmp_path, "CP-CRASH")[0])
    await ws.close()
    assert presence(database_url, tmp_path, "CP-CRASH")[0]  # the crash left it online
    async with running_edge(platform):  # the restart; the station never comes back
        assert presence(database_url, tmp_path, "CP-CRASH") == (False, None)
    platform.close()


@pytest.mark.redis
async def test_a_dead_edge_s_stations_expire_with_redis(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path, database_url, ocpp_port=0, ocpp_tls_port=0, redis_url=REDIS_URL, edge_node_ttl=1
    )
    platform = build_platform(settings)
    async with running_edge(platform) as survivor:
        RunningPlatform(platform, survivor, "", "").add_station("CP-ORPHAN")
        with edge_process(tmp_path, database_url, REDIS_URL) as port:
            url = f"ws://127.0.0.1:{port}/ocpp/CP-ORPHAN"
            headers = basic("CP-ORPHAN")
            ws = await connect(url, subprotocols=["ocpp1.6"], additional_headers=headers)
            await eventually(lambda: presence(database_url, tmp_path, "CP-ORPHAN")[0])
        await ws.close()
        await eventually(
            lambda: presence(database_url, tmp_path, "CP-ORPHAN") == (False, None), timeout=5
        )
    platform.close()


@pytest.mark.redis
async def test_a_station_moving_to_another_edge_is_closed_on_the_old_one_and_stays_online(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path, database_url, ocpp_port=0, ocpp_tls_port=0, redis_url=REDIS_URL
    )
    first_platform, second_platform = build_platform(settings), build_platform(settings)
    async with running_edge(first_platform) as first, running_edge(second_platform) as second:
        RunningPlatform(first_platform, first, "", "").add_station("CP-MOVE")
        headers = basic("CP-MOVE")
        old = await connect(
            f"ws://127.0.0.1:{first.ocpp_port}/ocpp/CP-MOVE",
            subprotocols=["ocpp1.6"],
            additional_headers=headers,
        )
        await eventually(
            lambda: presence(database_url, tmp_path, "CP-MOVE") == (True, first.node_id)
        )
        async with connect(
            f"ws://127.0.0.1:{second.ocpp_port}/ocpp/CP-MOVE",
            subprotocols=["ocpp1.6"],
            additional_headers=headers,
        ):
            try:
                await eventually(lambda: old.close_code is not None or None, timeout=3)
            finally:
                await old.close()
            assert (old.close_code, old.close_reason) == (1000, "connected to another node")
            await eventually(lambda: "CP-MOVE" not in first.gateway.sessions, timeout=3)
            assert presence(database_url, tmp_path, "CP-MOVE") == (True, second.node_id)
        await eventually(lambda: presence(database_url, tmp_path, "CP-MOVE") == (False, None))
    first_platform.close()
    second_platform.close()
