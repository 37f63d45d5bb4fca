"""Handshake admission on the real platform: unknown stations, auto-registration, profiles."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import Session, select
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.audit import AuditEntry
from tests.e2e.conftest import STATION_PASSWORD, RunningPlatform, basic, started_platform
from tests.e2e.http import OPEN_TIMEOUT, api_client
from tests.factories import admin_headers_http

BOOT = [2, "b", "BootNotification", {"chargePointVendor": "ACME", "chargePointModel": "X"}]


@pytest.fixture
async def auto(tmp_path: Path, database_url: str) -> AsyncIterator[RunningPlatform]:
    async with started_platform(tmp_path, database_url, auto_register_stations=True) as started:
        yield started


async def boot(url: str, station_id: str, password: str) -> dict[str, object]:
    async with connect(
        f"{url}/{station_id}",
        subprotocols=["ocpp1.6"],
        additional_headers=basic(station_id, password),
        open_timeout=OPEN_TIMEOUT,
    ) as ws:
        await ws.send(json.dumps(BOOT))
        answer: dict[str, object] = json.loads(await ws.recv())[2]
        return answer


async def test_an_unknown_station_is_refused_and_the_refusal_audited(
    running: RunningPlatform,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await boot(running.ocpp_url, "CP-STRANGER", "some-password-123456")
    assert refused.value.response.status_code == 404


async def test_a_wrong_password_is_401_and_audited(running: RunningPlatform) -> None:
    running.add_station("CP-1")
    with pytest.raises(InvalidStatus) as refused:
        await boot(running.ocpp_url, "CP-1", "not-the-password-0000")
    assert refused.value.response.status_code == 401
    with Session(running.platform.engine) as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "station.connect_refused")
        ).one()
    assert entry.object_id == "CP-1" and entry.outcome == "failure"
    assert "wrong station id or password" in entry.detail


async def test_auto_registration_answers_pending_until_an_admin_approves(
    auto: RunningPlatform,
) -> None:
    password = "new-station-password-01"
    first = await boot(auto.ocpp_url, "CP-NEW", password)
    assert first["status"] == "Pending"
    with pytest.raises(InvalidStatus) as hijack:
        await boot(auto.ocpp_url, "CP-NEW", "another-password-000001")
    assert hijack.value.response.status_code == 401
    async with api_client(auto.api_url) as http:
        headers = await admin_headers_http(auto.platform, http)
        pending = await http.get("/api/v1/stations", params={"pending": True}, headers=headers)
        assert [s["id"] for s in pending.json()["items"]] == ["CP-NEW"]
        approved = await http.post("/api/v1/stations/CP-NEW/approve", headers=headers)
        assert approved.status_code == 200, approved.text
    second = await boot(auto.ocpp_url, "CP-NEW", password)
    assert second["status"] == "Accepted"


async def test_a_profile_2_station_is_refused_on_the_plain_port(running: RunningPlatform) -> None:
    running.add_station("CP-TLS", profile=2)
    with pytest.raises(InvalidStatus) as refused:
        await boot(running.ocpp_url, "CP-TLS", "station-password-0001")
    assert refused.value.response.status_code == 401
    assert b"requires TLS" in refused.value.response.body


async def test_password_guessing_at_the_handshake_is_slowed_down(running: RunningPlatform) -> None:
    running.add_station("CP-GUESS")
    statuses = []
    for n in range(11):
        with pytest.raises(InvalidStatus) as refused:
            await boot(running.ocpp_url, "CP-GUESS", f"guess-number-{n:08d}")
        statuses.append(refused.value.response.status_code)
    assert statuses == [401] * 10 + [429]
    with pytest.raises(InvalidStatus) as locked:
        await boot(running.ocpp_url, "CP-GUESS", "station-password-0001")
    assert locked.value.response.status_code == 429
    assert b"too many failed attempts; retry in" in locked.value.response.body


async def boot_from(
    url: str, station_id: str, password: str, *, address: str
) -> dict[str, object] | int:
    """Boot leaving from ``address``; the refusal's HTTP status when the handshake fails."""
    try:
        async with connect(
            f"{url}/{station_id}",
            subprotocols=["ocpp1.6"],
            additional_headers=basic(station_id, password),
            local_addr=(address, 0),
        ) as ws:
            await ws.send(json.dumps(BOOT))
            answer: dict[str, object] = json.loads(await ws.recv())[2]
            return answer
    except InvalidStatus as refused:
        return refused.value.response.status_code if False else refused.response.status_code


async def test_guesses_from_one_address_never_lock_the_real_station_out(
    running: RunningPlatform,
) -> None:
    running.add_station("CP-VICTIM")
    guesses = [
        await boot_from(running.ocpp_url, "CP-VICTIM", f"guess-number-{n:08d}", address="127.0.0.2")
        for n in range(12)
    ]
    assert guesses == [401] * 10 + [429] * 2
    real = await boot_from(running.ocpp_url, "CP-VICTIM", STATION_PASSWORD, address="127.0.0.3")
    assert isinstance(real, dict) and real["status"] == "Accepted"
    with Session(running.platform.engine) as session:
        locked = session.exec(select(AuditEntry).where(AuditEntry.action == "station.locked")).all()
    assert [(e.object_id, e.source) for e in locked] == [("CP-VICTIM", "127.0.0.2")]


async def test_one_faulty_station_behind_a_nat_does_not_lock_out_its_neighbours(
    running: RunningPlatform,
) -> None:
    running.add_station("CP-FAULTY")
    running.add_station("CP-GOOD")
    for n in range(15):
        await boot_from(
            running.ocpp_url, "CP-FAULTY", f"stale-password-{n:04d}", address="127.0.0.4"
        )
    for _ in range(3):  # and reconnecting neighbours keep being admitted
        good = await boot_from(running.ocpp_url, "CP-GOOD", STATION_PASSWORD, address="127.0.0.4")
        assert isinstance(good, dict) and good["status"] == "Accepted"


async def test_an_admin_lifts_a_station_lockout_over_rest(running: RunningPlatform) -> None:
    running.add_station("CP-LOCKED")
    for n in range(10):
        await boot_from(running.ocpp_url, "CP-LOCKED", f"guess-number-{n:08d}", address="127.0.0.5")
    locked = await boot_from(running.ocpp_url, "CP-LOCKED", STATION_PASSWORD, address="127.0.0.5")
    assert locked == 429
    async with api_client(running.api_url) as http:
        headers = await admin_headers_http(running.platform, http)
        answer = await http.post("/api/v1/stations/CP-LOCKED/unlock-credentials", headers=headers)
        assert answer.status_code == 200 and answer.json() == {"cleared": 2}
        unknown = await http.post("/api/v1/stations/CP-NONE/unlock-credentials", headers=headers)
        assert unknown.status_code == 404
    again = await boot_from(running.ocpp_url, "CP-LOCKED", STATION_PASSWORD, address="127.0.0.5")
    assert isinstance(again, dict) and again["status"] == "Accepted"
    with Session(running.platform.engine) as session:
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "station.unlocked"))
    assert entry.object_id == "CP-LOCKED" and entry.detail == '{"keys_cleared": 2}'
