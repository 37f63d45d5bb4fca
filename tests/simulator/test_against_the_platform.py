"""The simulator's rough edges, met against the real platform: ids, remote starts, refusals."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io

import pytest

from app.cli.simulate import configure_parser, run
from simulator.fleet import FleetConfig, FleetReport, SimulatedStation, run_fleet
from tests.e2e.conftest import STATION_PASSWORD, RunningPlatform
from tests.e2e.http import api_client
from tests.eventually import eventually
from tests.factories import admin_headers_http

TAG = "CARD-SIM-2"
PROTOCOLS = pytest.mark.parametrize("protocol", ["1.6", "2.0.1", "2.1"])


def _config(running: RunningPlatform, protocol: str, **more: object) -> FleetConfig:
    options: dict[str, object] = {
        "url": running.ocpp_url,
        "protocol": protocol,
        "password": STATION_PASSWORD,
        "id_prefix": "RUN-",
        "sessions": 1,
        "session_seconds": 120.0,
        "meter_interval": 60.0,
        "speed": 3000.0,
        "id_tag": TAG,
    }
    options.update(more)
    return FleetConfig(**options)  # type: ignore[arg-type]


async def _transactions(running: RunningPlatform, station_id: str) -> list[dict[str, object]]:
    async with api_client(running.api_url) as http:
        headers = await admin_headers_http(running.platform, http, email=f"a-{station_id}@x.org")
        listed = await http.get(
            "/api/v1/transactions", params={"station_id": station_id}, headers=headers
        )
        assert listed.status_code == 200, listed.text
        items: list[dict[str, object]] = listed.json()["items"]
        return items


@PROTOCOLS
async def test_two_runs_of_the_same_station_make_two_transactions(
    running: RunningPlatform, protocol: str
) -> None:
    running.add_station("RUN-0001")
    running.add_id_token(TAG)

    for _ in range(2):
        report = await run_fleet(_config(running, protocol))
        assert report.ok, report.summary()
        assert report.stats.sessions_finished == 1

    items = await _transactions(running, "RUN-0001")
    assert [t["state"] for t in items] == ["ended", "ended"]
    assert len({t["id"] for t in items}) == 2


@PROTOCOLS
async def test_a_remote_start_over_the_api_starts_a_transaction(
    running: RunningPlatform, protocol: str
) -> None:
    running.add_station("RUN-0001")
    running.add_id_token(TAG)
    first = await run_fleet(_config(running, protocol))  # an earlier run of the same station
    assert first.ok, first.summary()
    made: list[SimulatedStation] = []
    task: asyncio.Task[FleetReport] = asyncio.create_task(
        run_fleet(
            _config(running, protocol, sessions=0, duration=30.0, session_seconds=6000.0),
            on_station=made.append,
        )
    )
    try:
        await eventually(lambda: made and made[0].stats.booted >= 1)
        await eventually(lambda: running.edge.gateway.is_connected("RUN-0001"))
        async with api_client(running.api_url) as http:
            headers = await admin_headers_http(running.platform, http)
            started = await http.post(
                "/api/v1/stations/RUN-0001/commands/start",
                json={"id_token": TAG},
                headers=headers,
            )
            assert started.status_code == 200, started.text
            assert started.json()["status"] == "Accepted"

        async def active() -> list[dict[str, object]]:
            items = await _transactions(running, "RUN-0001")
            return [t for t in items if t["state"] == "active"]

        started_now = await eventually(active)
        assert len(started_now) == 1
        assert started_now[0]["id_token"] == TAG
        assert made[0].stats.sessions_started == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_refused_stations_are_reported_and_the_run_exits_non_zero(
    running: RunningPlatform,
) -> None:
    running.add_station("RUN-0001")
    running.add_id_token(TAG)
    parser = argparse.ArgumentParser()
    configure_parser(parser)
    args = parser.parse_args(
        [
            "--url",
            running.ocpp_url,
            "--stations",
            "2",
            "--id-prefix",
            "RUN-",
            "--password",
            STATION_PASSWORD,
            "--id-tag",
            TAG,
            "--session-length",
            "60",
            "--speed",
            "3000",
        ]
    )
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.to_thread(run, args, out, err)
    summary = out.getvalue()
    assert code == 1, summary
    assert "1/2 stations ok, 1 refused" in summary
    assert "RUN-0002: handshake refused: HTTP 404 unknown station" in summary


async def test_a_station_whose_sessions_are_all_refused_is_not_reported_ok(
    running: RunningPlatform,
) -> None:
    running.add_station("RUN-0001")  # and no id token: every Authorize is refused
    report = await run_fleet(_config(running, "1.6", sessions=2))
    assert not report.ok
    assert report.summary().startswith("0/1 stations ok, 1 refused, 0 sessions finished")
    assert (
        "RUN-0001: the CSMS refused 2 of 2 sessions (Authorize of CARD-SIM-2: Invalid)"
        in report.summary()
    )
