"""A revoked station is cut off within 2 s and refused on every reconnect, whoever revoked it.

Issue 9 item 3: the edge used to keep a 2 s cache of revoked serials and a poll marker that
could move past a revocation, so a certificate revoked by another process (the CLI, an api
process) was accepted again on an immediate reconnect and its open session was never cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.platform import Platform, build_platform
from app.roles import Edge, bound_port, running_api, running_edge
from pki import KeyKind
from tests import conftest
from tests.conftest import TEST_SECRET, make_settings
from tests.e2e.conftest import RunningPlatform
from tests.e2e.http import api_client
from tests.e2e.tls import StationKeys, enrol
from tests.eventually import eventually
from tests.factories import admin_headers_http

REDIS_URL = conftest.REDIS_URL or ""
CUT_OFF_S = 2.0
STATION = "CP-REVOKED"


@dataclass
class TlsEdge:
    edge_platform: Platform
    api_platform: Platform
    edge: Edge
    api_url: str
    keys: StationKeys
    root: Path

    def context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.root)
        context.load_cert_chain(self.keys.chain, self.keys.key)
        return context

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.edge.ocpp_tls_port}/ocpp/{STATION}"


@contextlib.asynccontextmanager
async def tls_edge(
    tmp_path: Path, database_url: str, redis_url: str | None
) -> AsyncIterator[TlsEdge]:
    """An edge and a separate api platform (its own CA, caches and Redis link) on one database,
    and a registered station holding its certificate."""
    settings = make_settings(
        tmp_path, database_url, ocpp_port=0, ocpp_tls_port=0, redis_url=redis_url
    )
    edge_platform, api_platform = build_platform(settings), build_platform(settings)
    try:
        async with running_edge(edge_platform) as edge, running_api(api_platform) as api:
            RunningPlatform(edge_platform, edge, "", "").add_station(STATION, profile=2)
            keys = enrol(edge_platform.ca, tmp_path, STATION, KeyKind.EC_P256)
            root = tmp_path / "root.pem"
            root.write_text(edge_platform.ca.root_pem())
            yield TlsEdge(
                edge_platform,
                api_platform,
                edge,
                f"http://127.0.0.1:{bound_port(api)}",
                keys,
                root,
            )
    finally:
        edge_platform.close()
        api_platform.close()


async def assert_refused(target: TlsEdge) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(target.url, subprotocols=["ocpp1.6"], ssl=target.context()):
            pass
    assert refused.value.response.status_code == 401
    assert refused.value.response.body.decode() == (
        f"client certificate refused: certificate {int(target.keys.serial_hex, 16):x} is revoked\n"
    )


async def assert_cut_off(ws: ClientConnection, deadline: float) -> None:
    loop = asyncio.get_running_loop()
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), timeout=max(deadline - loop.time(), 0.01))
    assert ws.close_code == 1008
    assert ws.close_reason == "certificate revoked"


async def keep_handshaking(target: TlsEdge, tmp_path: Path) -> None:
    """Another station reconnecting all the time, as on a busy edge: the edge's caches stay
    warm right up to the revocation."""
    RunningPlatform(target.edge_platform, target.edge, "", "").add_station("CP-BUSY", profile=2)
    keys = enrol(target.edge_platform.ca, tmp_path, "CP-BUSY", KeyKind.EC_P256)
    context = ssl.create_default_context(cafile=target.root)
    context.load_cert_chain(keys.chain, keys.key)
    url = target.url.replace(STATION, "CP-BUSY")
    while True:
        async with connect(url, subprotocols=["ocpp1.6"], ssl=context):
            pass


def cli_revoke(tmp_path: Path, database_url: str, serial: str, redis_url: str | None) -> str:
    """``chargeline pki revoke`` in its own OS process, as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGELINE_")}
    env |= {
        "CHARGELINE_MODE": "production",
        "CHARGELINE_SECRET_KEY": TEST_SECRET,
        "CHARGELINE_DATABASE_URL": database_url,
    }
    if redis_url:
        env["CHARGELINE_REDIS_URL"] = redis_url
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "pki", "revoke", serial, "--reason", "keyCompromise"]
        + ["--data-dir", str(tmp_path / "var")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "redis_url",
    [
        pytest.param(None, id="db-poll"),
        pytest.param(REDIS_URL, id="redis-push", marks=pytest.mark.redis),
    ],
)
async def test_a_certificate_revoked_by_the_cli_process_is_cut_off_and_refused(
    tmp_path: Path, database_url: str, redis_url: str | None
) -> None:
    async with tls_edge(tmp_path, database_url, redis_url) as target:
        busy = asyncio.create_task(keep_handshaking(target, tmp_path))
        async with connect(target.url, subprotocols=["ocpp1.6"], ssl=target.context()) as ws:
            await eventually(lambda: target.edge.gateway.is_connected(STATION))
            try:
                output = await asyncio.to_thread(
                    cli_revoke, tmp_path, database_url, target.keys.serial_hex, redis_url
                )
            finally:
                busy.cancel()
            deadline = asyncio.get_running_loop().time() + CUT_OFF_S
            assert output == f"revoked {target.keys.serial_hex} (keyCompromise)\n"
            await assert_refused(target)  # at once: no cache window
            await assert_cut_off(ws, deadline)
        await assert_refused(target)


@pytest.mark.parametrize(
    "redis_url",
    [
        pytest.param(None, id="db-poll"),
        pytest.param(REDIS_URL, id="redis-push", marks=pytest.mark.redis),
    ],
)
async def test_a_certificate_revoked_over_rest_on_an_api_process_is_cut_off_and_refused(
    tmp_path: Path, database_url: str, redis_url: str | None
) -> None:
    async with (
        tls_edge(tmp_path, database_url, redis_url) as target,
        api_client(target.api_url) as http,
    ):
        headers = await admin_headers_http(target.api_platform, http)
        async with connect(target.url, subprotocols=["ocpp1.6"], ssl=target.context()) as ws:
            revoked = await http.post(
                f"/api/v1/certificates/{target.keys.serial_hex}/revoke",
                json={"reason": "keyCompromise"},
                headers=headers,
            )
            deadline = asyncio.get_running_loop().time() + CUT_OFF_S
            assert revoked.status_code == 200, revoked.text
            assert revoked.json()["status"] == "revoked"
            await assert_refused(target)
            await assert_cut_off(ws, deadline)
        for _ in range(3):
            await assert_refused(target)
