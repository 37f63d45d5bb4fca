"""Claims and the lease against a real database: concurrent workers never share a target."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select, update

from app.platform import Platform
from charging.commands import Command, SignedUpdateFirmware
from common.clock import utcnow
from firmware.rollout_tables import RolloutTargetRow
from firmware.service import admin, claims
from firmware.service.ports import Answer
from firmware.service.worker import DUE_STATES, RolloutWorker
from tests.e2e.firmware_fleet import (
    FakeDownloads,
    add_family,
    add_field_stations,
    add_image,
    policy,
)

NOW = utcnow()


def fleet_rollout(platform: Platform, size: int) -> int:
    platform.ca.initialize(now=NOW)
    family_id = add_family(platform, "claims")
    add_field_stations(platform, "claims", [f"C-{n:04d}" for n in range(size)])
    image_id = add_image(platform, family_id, "2.0.0")
    with Session(platform.engine) as session:
        row = admin.create_rollout(
            session,
            name="claims",
            image_id=image_id,
            policy=policy("claims", sizes=(size,)),
            created_by="test",
            now=NOW,
        )
        session.flush()
        admin.move_rollout(session, row.id or 0, "start", now=NOW)
        session.commit()
        return row.id or 0


class RecordingLink:
    """Stations that accept every command and remember who sent what."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Command]] = []
        self.lock = threading.Lock()

    async def send(self, station_id: str, command: Command) -> Answer:
        await asyncio.sleep(0)
        with self.lock:
            self.sent.append((station_id, command))
        if type(command).__name__ == "GetInstalledCertificateIds":
            return Answer("NotFound")
        return Answer("Accepted")


class Roots:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def manufacturer_root(self, family_id: int) -> str:
        del family_id
        return self.platform.ca.manufacturer_root_pem()


@pytest.mark.postgres  # SKIP LOCKED row claims; SQLite runs one worker under the lease
def test_workers_claiming_at_once_take_disjoint_targets(platform: Platform) -> None:
    if platform.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite workers share no rows, they take turns")
    fleet_rollout(platform, 300)
    barrier = threading.Barrier(6)
    taken: dict[str, list[int]] = {}

    def claim(holder: str) -> None:
        barrier.wait()
        taken[holder] = claims.claim_targets(
            platform.engine, holder, states=DUE_STATES, now=NOW, ttl=timedelta(minutes=5), limit=50
        )

    threads = [threading.Thread(target=claim, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everyone = [target for batch in taken.values() for target in batch]
    assert len(everyone) == len(set(everyone)) == 300
    assert sorted(len(batch) for batch in taken.values()) == [50] * 6  # nobody waited
    with Session(platform.engine) as session:
        holders = Counter(row.claimed_by for row in session.exec(select(RolloutTargetRow)))
    assert holders == Counter({holder: len(batch) for holder, batch in taken.items() if batch})


@pytest.mark.postgres
async def test_two_workers_running_at_once_send_each_station_one_update(
    platform: Platform,
) -> None:
    if platform.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite workers share no rows, they take turns")
    rollout_id = fleet_rollout(platform, 120)
    with Session(platform.engine) as session:  # every station is online and idle
        from charging.tables import Station

        session.execute(update(Station).values(online=True, ocpp_version="2.0.1"))
        session.commit()
    link = RecordingLink()
    workers = [
        RolloutWorker(
            platform.engine, link, FakeDownloads(), Roots(platform), holder=f"w{n}", batch=10
        )
        for n in range(2)
    ]
    for _ in range(20):
        await asyncio.gather(*(w.run_once() for w in workers))
    updates = [(s, c) for s, c in link.sent if isinstance(c, SignedUpdateFirmware)]
    per_station = Counter(s for s, _ in updates)
    assert len(per_station) == 120 and set(per_station.values()) == {1}, per_station
    assert len({c.request_id for _, c in updates}) == 120
    with Session(platform.engine) as session:
        states = Counter(
            row.state
            for row in session.exec(
                select(RolloutTargetRow).where(col(RolloutTargetRow.rollout_id) == rollout_id)
            )
        )
    assert states == Counter({"accepted": 120})


def test_the_lease_lets_exactly_one_worker_run(platform: Platform) -> None:
    ttl = timedelta(seconds=30)
    engine = platform.engine
    assert claims.acquire_lease(engine, "a", now=NOW, ttl=ttl)
    assert not claims.acquire_lease(engine, "b", now=NOW + timedelta(seconds=5), ttl=ttl)
    assert claims.acquire_lease(engine, "a", now=NOW + timedelta(seconds=10), ttl=ttl)  # renews
    assert not claims.acquire_lease(engine, "b", now=NOW + timedelta(seconds=35), ttl=ttl)
    assert claims.acquire_lease(engine, "b", now=NOW + timedelta(seconds=41), ttl=ttl)  # lapsed
    assert not claims.acquire_lease(engine, "a", now=NOW + timedelta(seconds=42), ttl=ttl)
    claims.release_lease(engine, "b")
    assert claims.acquire_lease(engine, "a", now=NOW + timedelta(seconds=43), ttl=ttl)
    barrier = threading.Barrier(8)
    won: list[str] = []

    def race(holder: str) -> None:
        barrier.wait()
        if claims.acquire_lease(engine, holder, now=NOW + timedelta(hours=1), ttl=ttl):
            won.append(holder)

    threads = [threading.Thread(target=race, args=(f"r{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1, won
