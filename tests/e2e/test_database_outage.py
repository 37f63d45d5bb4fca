"""A database outage: the API answers 503 problem+json with Retry-After, the OCPP handshake
503, a station's messages a CALLERROR on a connection that stays; all recover by themselves.

PostgreSQL is reached through a loopback TCP proxy the test cuts and restores (the shared
server is never stopped); on SQLite another connection holds the write lock, as a backup tool
or a second process would, with a short busy timeout.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from charging.tables import Transaction
from tests.db_proxy import TcpProxy
from tests.e2e.conftest import RunningPlatform, basic, started_platform
from tests.e2e.http import api_client
from tests.e2e.stations import PLATFORM_CALL_REPLIES
from tests.eventually import eventually
from tests.factories import admin_headers_http

PROBLEM = "application/problem+json"


class Outage(Protocol):
    def begin(self) -> None: ...

    def end(self) -> None: ...


class SqliteWriteLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self.holder: sqlite3.Connection | None = None

    def begin(self) -> None:
        self.holder = sqlite3.connect(self.path, isolation_level=None)
        self.holder.execute("BEGIN IMMEDIATE")

    def end(self) -> None:
        assert self.holder is not None
        self.holder.rollback()
        self.holder.close()


@dataclass
class ProxyCut:
    proxy: TcpProxy

    def begin(self) -> None:
        self.proxy.cut()

    def end(self) -> None:
        self.proxy.restore()


@pytest.fixture
async def outage(
    tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[RunningPlatform, Outage]]:
    if database_url.startswith("sqlite"):
        lock = SqliteWriteLock(make_url(database_url).database or "")
        async with started_platform(tmp_path, database_url + "?timeout=0.2") as running:
            yield running, lock
        return
    parsed = make_url(database_url)
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
        async with started_platform(tmp_path, proxy.url_for(database_url)) as running:
            yield running, ProxyCut(proxy)
            proxy.restore()  # so the platform can close cleanly whatever the test did


def assert_unavailable(response: httpx.Response, slug: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["type"] == f"https://chargeline.dev/problems/{slug}" and body["status"] == 503


async def test_the_api_answers_503_with_retry_after_and_recovers(
    outage: tuple[RunningPlatform, Outage],
) -> None:
    running, database = outage
    async with api_client(running.api_url) as http:
        admin = await admin_headers_http(running.platform, http)
        database.begin()
        try:
            refused = await http.post("/api/v1/id-tokens", json={"value": "CARD-9"}, headers=admin)
            assert_unavailable(refused, "database-unavailable")
            assert refused.json()["detail"] == "the database is unavailable; retry later"
            assert_unavailable(await http.get("/readyz"), "not-ready")
        finally:
            database.end()

        async def created() -> bool:
            answer = await http.post("/api/v1/id-tokens", json={"value": "CARD-9"}, headers=admin)
            return answer.status_code == 201

        await eventually(created)
        assert (await http.get("/readyz")).json()["status"] == "ready"


async def exchange(ws: ClientConnection, message_id: str, action: str, payload: Any) -> list[Any]:
    """Send a CALL and return the station's answer frame, answering platform calls meanwhile."""
    await ws.send(json.dumps([2, message_id, action, payload]))
    while True:
        frame = json.loads(await ws.recv())
        if frame[0] == 2:
            await ws.send(json.dumps([3, frame[1], PLATFORM_CALL_REPLIES.get(frame[2], {})]))
            continue
        assert frame[1] == message_id, frame
        return list(frame)


START = {"connectorId": 1, "idTag": "CARD-1", "meterStart": 0, "timestamp": "2026-11-21T10:00:00Z"}


async def test_a_station_message_during_an_outage_gets_internal_error_and_keeps_its_connection(
    outage: tuple[RunningPlatform, Outage],
) -> None:
    running, database = outage
    running.add_station("CP-1")
    running.add_id_token("CARD-1")
    async with connect(
        f"{running.ocpp_url}/CP-1", subprotocols=["ocpp1.6"], additional_headers=basic("CP-1")
    ) as ws:
        boot = {"chargePointVendor": "ACME", "chargePointModel": "X"}
        assert (await exchange(ws, "1", "BootNotification", boot))[2]["status"] == "Accepted"
        database.begin()
        try:
            failed = await exchange(ws, "2", "StartTransaction", START)
        finally:
            database.end()
        assert failed == [
            4,
            "2",
            "InternalError",
            "the platform failed to process StartTransaction",
            {},
        ]
        attempts = iter(range(1000))

        async def started() -> list[Any] | None:
            answer = await exchange(ws, f"3-{next(attempts)}", "StartTransaction", START)
            return answer if answer[0] == 3 else None

        answer = await eventually(started)
        assert answer[2]["idTagInfo"]["status"] == "Accepted"
    with Session(running.platform.engine) as session:
        rows = session.exec(select(Transaction).where(Transaction.station_id == "CP-1")).all()
    assert [row.id for row in rows] == [answer[2]["transactionId"]]


@pytest.mark.postgres  # reads on a locked SQLite file still succeed
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_handshake_answers_503_with_retry_after_and_recovers(
    outage: tuple[RunningPlatform, Outage],
) -> None:
    running, database = outage
    running.add_station("CP-1")

    async def handshake() -> int:
        try:
            async with connect(
                f"{running.ocpp_url}/CP-1",
                subprotocols=["ocpp1.6"],
                additional_headers=basic("CP-1"),
            ):
                return 101
        except InvalidStatus as refused:
            response = refused.response
            assert response.status_code == 503, response.status_code
            assert response.headers["Retry-After"] == "5"
            assert response.body == b"the platform's database is unavailable; retry later\n"
            return 503

    database.begin()
    try:
        assert await handshake() == 503
    finally:
        database.end()
    await eventually(lambda: _is(handshake(), 101))


async def _is(answer: Any, expected: int) -> bool:
    return bool(await answer == expected)
