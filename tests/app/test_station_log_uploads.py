"""Stations upload their logs to the location of a GetLog / GetDiagnostics request: the
simulator's own uploader (an independent client) against the real API over a socket."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.platform import Platform
from app.rollout_wiring import PlatformLogLocations
from common.clock import utcnow
from firmware.service import dispatch
from simulator.transfers import TransferError, upload
from tests.factories import admin_headers_http
from tests.live import LiveServer
from tests.problems import assert_problem


@pytest.fixture
def logs(platform: Platform, live_server: LiveServer) -> PlatformLogLocations:
    platform.downloads.public_url = live_server.url
    return PlatformLogLocations(platform)


async def test_a_station_uploads_its_log_and_an_admin_lists_it(
    platform: Platform, live_server: LiveServer, logs: PlatformLogLocations
) -> None:
    location = logs.log_location(station_id="CP-LOG", request_id=41, target_id=7, now=utcnow())
    assert location.startswith(f"{live_server.url}/logs/") and location.endswith("/")
    assert len(location) <= 512
    await upload(location, "diag.log", b"second\n")
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        # a station that posts to the location itself, naming a hostile file in the form
        hostile = await http.post(
            location, files={"file": ("../../etc/passwd", b"firmware history\n")}
        )
        assert hostile.status_code == 201, hostile.text
        headers = await admin_headers_http(platform, http)
        listed = await http.get("/api/v1/stations/CP-LOG/logs", headers=headers)
        assert listed.status_code == 200, listed.text
        names = sorted(item["name"] for item in listed.json()["items"])
        assert names == ["41-diag.log", "41-etc_passwd"]
        assert {item["size"] for item in listed.json()["items"]} == {7, 17}
        unknown = await http.get("/api/v1/stations/OTHER/logs", headers=headers)
        assert_problem(unknown, 404, "not-found")
        body = {"id": "CP-QUIET", "password": "station-password-0001"}
        assert (await http.post("/api/v1/stations", json=body, headers=headers)).is_success
        quiet = await http.get("/api/v1/stations/CP-QUIET/logs", headers=headers)
        assert (quiet.status_code, quiet.json()["total"]) == (200, 0)
    stored = platform.settings.data_dir / "station-logs" / "CP-LOG" / "41-etc_passwd"
    assert stored.read_bytes() == b"firmware history\n"


async def test_forged_and_expired_upload_locations_are_refused_and_store_nothing(
    platform: Platform, logs: PlatformLogLocations
) -> None:
    location = logs.log_location(station_id="CP-LOG", request_id=5, target_id=None, now=utcnow())
    token = location.rstrip("/").rsplit("/", 1)[1]
    forged = location.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    with pytest.raises(TransferError, match="HTTP 403"):
        await upload(forged, "a.log", b"x")
    old = logs.log_location(
        station_id="CP-LOG", request_id=6, target_id=None, now=utcnow() - timedelta(days=1)
    )
    with pytest.raises(TransferError, match="HTTP 410"):
        await upload(old, "a.log", b"x")
    async with httpx.AsyncClient(timeout=30) as http:
        no_file = await http.post(location, files={"other": ("a.log", b"x")})
    assert_problem(no_file, 422, "validation-error")
    assert not (platform.settings.data_dir / "station-logs").exists()


def test_1_6_plain_stations_get_get_diagnostics_and_the_others_get_log() -> None:
    from charging.commands import GetDiagnostics, GetLog

    plain = dispatch.log_command("https://x/logs/t/", 9, diagnostics=True)
    assert isinstance(plain, GetDiagnostics) and plain.location == "https://x/logs/t/"
    signed = dispatch.log_command("https://x/logs/t/", 9, diagnostics=False)
    assert isinstance(signed, GetLog) and signed.request_id == 9
