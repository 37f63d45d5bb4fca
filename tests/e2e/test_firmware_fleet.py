"""Two hundred simulated stations of two families updated by the real platform, nothing faked.

Images are uploaded over the REST API and signed by the platform (RSA-PSS under its
manufacturer root, which the worker installs on the stations with InstallCertificate). The
simulator's stations connect over real sockets, download from the platform's own ``/fw/{token}``
(the 2.0.1 family) and its FTP server (the 1.6 whitepaper family, ``download_protocol: "ftp"``),
check the signature against the installed root, install, reboot and boot on the new version.
Ten percent of the 2.0.1 family report InvalidSignature: its rollout pauses itself at the
threshold and the admin resumes it with a replacement image. A 1.6 station in a charging
session is updated only once the session has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from app.roles import running_worker
from charging.tables import Station
from common.clock import utcnow
from firmware.download_tables import FirmwareDownloadRow
from simulator.firmware import FirmwareFault, build_image
from simulator.fleet import FleetConfig, FleetReport, SimulatedStation, run_fleet
from tests.e2e.conftest import STATION_PASSWORD, RunningPlatform, started_platform
from tests.e2e.firmware_fleet import Admin, add_family, add_field_stations
from tests.e2e.tls_terminator import tls_terminator
from tests.eventually import eventually
from tests.factories import admin_headers_http
from tests.simulator.firmware_servers import make_pki

SESSION_STATION = "WP-0080"
TAG = "TAG-WP-SESSION"


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[RunningPlatform]:
    async with started_platform(
        tmp_path, database_url, rollout_interval=0.05, command_timeout=15.0
    ) as started:
        yield started


def fleet(
    running: RunningPlatform, prefix: str, first: int, count: int, **extra: Any
) -> FleetConfig:
    values: dict[str, Any] = {
        "url": running.ocpp_url,
        "stations": count,
        "first": first,
        "id_prefix": prefix,
        "password": STATION_PASSWORD,
        "sessions": 0,
        "speed": 1000.0,
        "call_timeout": 30.0,
        **extra,
    }
    return FleetConfig(**values)


@contextlib.asynccontextmanager
async def fleets_running(
    configs: list[FleetConfig],
) -> AsyncIterator[dict[str, SimulatedStation]]:
    made: dict[str, SimulatedStation] = {}
    tasks: list[asyncio.Task[FleetReport]] = [
        asyncio.create_task(run_fleet(c, on_station=lambda s: made.__setitem__(s.station_id, s)))
        for c in configs
    ]
    try:
        yield made
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def upload(admin: Admin, family: str, version: str) -> int:
    response = await admin.http.post(
        "/api/v1/firmware/images",
        data={"family": family, "version": version, "sign": "true", "notes": f"{family} {version}"},
        files={"file": (f"{family}-{version}.bin", build_image(version, 4096))},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["signature_algorithm"] == "rsa-pss-sha256"
    return int(body["id"])


async def rollout_in(admin: Admin, rollout_id: int, *states: str) -> dict[str, Any] | None:
    body: dict[str, Any] = (await admin.get(f"/rollouts/{rollout_id}")).json()
    return body if body["state"] in states else None


async def targets(admin: Admin, rollout_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = await admin.get(f"/rollouts/{rollout_id}/targets?limit=500&offset={len(found)}")
        found += page.json()["items"]
        if len(found) >= page.json()["total"]:
            return found


def versions(running: RunningPlatform) -> dict[str, str | None]:
    with Session(running.platform.engine) as session:
        return {s.id: s.firmware_version for s in session.exec(select(Station))}


async def test_two_hundred_stations_of_two_families_update_through_the_platform(
    running: RunningPlatform, tmp_path: Path
) -> None:
    started = time.monotonic()
    platform = running.platform
    platform.ca.initialize(now=utcnow())
    add_family(platform, "ac", ocpp_version="2.0.1")
    add_family(platform, "wp", ocpp_version="1.6")
    ac_ids = [f"AC-{n:04d}" for n in range(1, 121)]
    wp_ids = [f"WP-{n:04d}" for n in range(1, 81)]
    add_field_stations(platform, "ac", ac_ids)
    add_field_stations(platform, "wp", wp_ids)
    running.add_id_token(TAG)
    # The first 40 of the 2.0.1 family (its first wave) hold the faulty share: 12 of 40 is 10%
    # of the family's 120.
    faulty = fleet(
        running, "AC-", 1, 40, protocol="2.0.1",
        firmware_fault_shares={FirmwareFault.SIGNATURE: 0.3},
    )  # fmt: skip
    bad = {s for s, f in faulty.faults_by_station().items() if FirmwareFault.SIGNATURE in f}
    assert len(bad) == 12
    (tmp_path / "tls").mkdir()
    tls = make_pki(tmp_path / "tls")  # the HTTPS family downloads through a TLS terminator
    faulty = dataclasses.replace(faulty, download_ca_file=tls.tls_ca_file)
    configs = [
        faulty,
        fleet(running, "AC-", 41, 80, protocol="2.0.1", download_ca_file=tls.tls_ca_file),
        fleet(running, "WP-", 1, 79, protocol="1.6"),
        fleet(
            running, "WP-", 80, 1, protocol="1.6",
            sessions=1, session_seconds=10**9, meter_interval=10**6, id_tag=TAG, duration=3600,
        ),
    ]  # fmt: skip
    api_port = int(running.api_url.rsplit(":", 1)[1])
    async with (
        tls_terminator(api_port, tls.tls_cert_file, tls.tls_key_file) as https,
        httpx.AsyncClient(base_url=running.api_url, timeout=30) as http,
        running_worker(platform),
        fleets_running(configs) as made,
    ):
        platform.downloads.public_url = f"https://127.0.0.1:{https.port}"
        admin = Admin(http, await admin_headers_http(platform, http))
        first_ac = await upload(admin, "ac", "2.0.0")
        replacement = await upload(admin, "ac", "2.0.1")
        wp_image = await upload(admin, "wp", "1.1.0")

        async def charging() -> bool:
            page = await admin.get(f"/transactions?station_id={SESSION_STATION}&active=true")
            return page.json()["total"] == 1

        await eventually(lambda: len(made) == 200 and all(s.stats.booted for s in made.values()))
        await eventually(charging, timeout=30)
        booted = time.monotonic()

        ac_policy = {
            "selection": {"family": "ac"},
            "waves": {"kind": "fixed", "sizes": [40, 80]},
            "success_percent": 50,
            "criteria": [{"kind": "signature", "percent": 10, "min_sample": 20}],
        }
        wp_policy = {
            "selection": {"family": "wp"},
            "waves": {"kind": "percent", "percents": [10, 100]},
            "download_protocol": "ftp",
        }
        ac = await admin.post(
            "/rollouts", {"name": "ac", "image_id": first_ac, "policy": ac_policy}
        )
        wp = await admin.post(
            "/rollouts", {"name": "wp", "image_id": wp_image, "policy": wp_policy}
        )
        assert ac.status_code == wp.status_code == 201, (ac.text, wp.text)
        ac_id, wp_id = ac.json()["id"], wp.json()["id"]
        assert ac.json()["target_count"] == 120 and wp.json()["target_count"] == 80
        for rollout_id in (ac_id, wp_id):
            assert (await admin.post(f"/rollouts/{rollout_id}/start")).status_code == 200

        paused = await eventually(lambda: rollout_in(admin, ac_id, "paused"), timeout=60)
        assert "signature failures" in paused["reason"] and ">= 10%" in paused["reason"]
        assert paused["waves"][1]["counts"] == {"pending": 80}
        resumed = await admin.post(f"/rollouts/{ac_id}/resume", {"image_id": replacement})
        assert resumed.status_code == 200, resumed.text

        async def all_but_the_charging_station() -> bool:
            rows = await targets(admin, wp_id)
            others = [t["state"] for t in rows if t["station_id"] != SESSION_STATION]
            return len(others) == 79 and set(others) == {"succeeded"}

        ac_done = await eventually(lambda: rollout_in(admin, ac_id, "succeeded"), timeout=120)
        await eventually(all_but_the_charging_station, timeout=120)
        waiting = [t for t in await targets(admin, wp_id) if t["station_id"] == SESSION_STATION]
        assert waiting[0]["state"] not in ("succeeded", "failed")
        assert waiting[0]["sent_at"] is None
        assert made[SESSION_STATION].state.firmware.request is None
        assert versions(running)[SESSION_STATION] == "1.0.0"

        transaction = (
            await admin.get(f"/transactions?station_id={SESSION_STATION}&active=true")
        ).json()["items"][0]
        stopped = await admin.post(
            f"/stations/{SESSION_STATION}/commands/stop",
            {"transaction_ref": transaction["transaction_ref"]},
        )
        assert stopped.status_code == 200, stopped.text
        wp_done = await eventually(lambda: rollout_in(admin, wp_id, "succeeded"), timeout=60)
        ac_rows, wp_rows = await targets(admin, ac_id), await targets(admin, wp_id)
        ended = (await admin.get(f"/transactions/{transaction['id']}")).json()["ended_at"]
    finished = time.monotonic()
    print(
        f"\n200 stations: booted in {booted - started:.1f} s, "
        f"both rollouts done {finished - booted:.1f} s later ({finished - started:.1f} s in all)"
    )

    assert ac_done["outcome"] == "successful" and ac_done["image_id"] == replacement
    assert ac_done["counts"] == {"failed": 12, "succeeded": 108}
    assert {t["station_id"] for t in ac_rows if t["state"] == "failed"} == bad
    assert {t["failure"] for t in ac_rows if t["state"] == "failed"} == {"signature"}
    assert wp_done["counts"] == {"succeeded": 80}
    # Every other station is on the version its target was sent, as its BootNotification said,
    # and the replacement reached the whole second wave.
    now_on = versions(running)
    for row in ac_rows + wp_rows:
        if row["state"] == "succeeded":
            assert now_on[row["station_id"]] == row["new_version"], row
            assert made[row["station_id"]].state.firmware.status == "Installed"
    assert {t["new_version"] for t in ac_rows if t["wave"] == 1} == {"2.0.1"}
    assert {now_on[s] for s in bad} == {"1.0.0"}
    assert {made[s].state.firmware.status for s in bad} == {"InvalidSignature"}
    assert {now_on[s] for s in wp_ids} == {"1.1.0"}
    # The charging station got its update only after its session had ended.
    session_target = next(t for t in wp_rows if t["station_id"] == SESSION_STATION)
    assert ended is not None
    assert datetime.fromisoformat(session_target["sent_at"]) >= datetime.fromisoformat(ended)

    with Session(platform.engine) as session:
        downloads = session.exec(
            select(FirmwareDownloadRow).where(col(FirmwareDownloadRow.outcome) == "completed")
        ).all()
    by_protocol = {
        protocol: {d.station_id for d in downloads if d.protocol == protocol}
        for protocol in ("https", "ftp")
    }
    assert by_protocol["ftp"] == set(wp_ids)
    assert by_protocol["https"] == set(ac_ids)
    assert https.connections >= len(ac_ids)  # each over TLS, trusted through the CA file
