"""A real ``chargeline worker`` process killed mid-wave: a second one finishes the rollout,
nothing is lost, and no station gets two different requestIds for one update."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from firmware.rollout_tables import OutboxRow, RolloutTargetRow
from tests import conftest
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import RunningPlatform, started_platform
from tests.e2e.firmware_fleet import (
    Admin,
    Behaviour,
    UpdatingStation,
    add_family,
    add_field_stations,
    add_image,
    living,
    policy,
)
from tests.e2e.processes import CLI
from tests.eventually import eventually

pytestmark = pytest.mark.redis
REDIS_URL = conftest.REDIS_URL or ""


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[RunningPlatform]:
    """The edge and API in this process; commands reach them from other processes by Redis."""
    async with started_platform(tmp_path, database_url, redis_url=REDIS_URL) as started:
        yield started


@contextmanager
def worker_process(running: RunningPlatform, log: Path) -> Iterator[subprocess.Popen[str]]:
    settings = running.platform.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGELINE_")}
    env.update(
        CHARGELINE_MODE="production",
        CHARGELINE_SECRET_KEY=TEST_SECRET,
        CHARGELINE_REDIS_URL=REDIS_URL,
        CHARGELINE_ROLLOUT_INTERVAL="0.05",
        CHARGELINE_ROLLOUT_CLAIM_SECONDS="2",
        CHARGELINE_COMMAND_TIMEOUT="5",
    )
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                *CLI,
                "worker",
                "--data-dir",
                str(settings.data_dir),
                "--database-url",
                settings.resolved_database_url,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(10)


def update_ids(stations: list[UpdatingStation]) -> dict[str, list[Any]]:
    return {s.station_id: [c["requestId"] for c in s.calls("UpdateFirmware")] for s in stations}


async def test_a_killed_worker_loses_nothing_and_repeats_no_update_under_another_id(
    running: RunningPlatform, admin: Admin, tmp_path: Path
) -> None:
    platform = running.platform
    family_id = add_family(platform, "crashy")
    ids = [f"K-{n}" for n in range(1, 7)]
    add_field_stations(platform, "crashy", ids)
    image_id = add_image(platform, family_id, "2.0.0")
    hold = asyncio.Event()
    stations = [
        UpdatingStation(running.ocpp_url, s, "1.0.0", behaviour=Behaviour(hold=hold)) for s in ids
    ]
    async with living(stations):
        await eventually(lambda: all(s.boots for s in stations), timeout=60)
        created = await admin.post(
            "/rollouts",
            {"name": "crash", "image_id": image_id, "policy": policy("crashy", sizes=(3, 3))},
        )
        rollout_id = created.json()["id"]
        assert (await admin.post(f"/rollouts/{rollout_id}/start")).status_code == 200
        with worker_process(running, tmp_path / "worker-1.log") as first:
            # The first wave's stations got their update and are holding: kill -9 mid-wave.
            await eventually(
                lambda: sum(bool(s.calls("UpdateFirmware")) for s in stations) == 3,
                timeout=30,
                message=(tmp_path / "worker-1.log").read_text(),
            )
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        before = update_ids(stations)
        with Session(platform.engine) as session:
            # Killed after the stations answered: whether the answers were written or not, the
            # first wave is in flight and the second has not been sent.
            states = [t.state for t in session.exec(select(RolloutTargetRow))]
            assert states.count("pending") == 3, states
            assert set(states) - {"pending"} <= {"sent", "accepted"}, states
        with worker_process(running, tmp_path / "worker-2.log"):
            hold.set()

            async def finished() -> bool:
                body = (await admin.get(f"/rollouts/{rollout_id}")).json()
                return body["state"] == "succeeded"

            await eventually(finished, timeout=60, message=(tmp_path / "worker-2.log").read_text())
    after = update_ids(stations)
    for station_id, sent in after.items():
        assert len(set(sent)) == 1, (station_id, sent)  # resends, if any, kept the requestId
        if before[station_id]:
            assert sent[0] == before[station_id][0]
    assert all(s.version == "2.0.0" for s in stations)
    with Session(platform.engine) as session:
        targets = session.exec(select(RolloutTargetRow)).all()
        assert {t.state for t in targets} == {"succeeded"}
        assert {t.request_id for t in targets} == {ids[0] for ids in after.values()}
        unanswered = session.exec(select(OutboxRow).where(col(OutboxRow.answered_at).is_(None)))
        assert unanswered.all() == []
