"""The policy's ``download_protocol`` decides which location a station is sent."""

from __future__ import annotations

import pytest

from app.roles import running_worker
from tests.e2e.conftest import RunningPlatform
from tests.e2e.firmware_fleet import (
    Admin,
    FakeDownloads,
    UpdatingStation,
    add_family,
    add_field_stations,
    add_image,
    living,
    policy,
)
from tests.eventually import eventually


@pytest.mark.parametrize("protocol", ["ftp", "https", None])
async def test_stations_get_locations_of_the_policys_download_protocol(
    running: RunningPlatform, admin: Admin, protocol: str | None
) -> None:
    platform = running.platform
    family_id = add_family(platform, "proto")
    add_field_stations(platform, "proto", ["P-1"])
    image_id = add_image(platform, family_id, "2.0.0")
    station = UpdatingStation(running.ocpp_url, "P-1", "1.0.0")
    rules = policy("proto", sizes=(1,))
    if protocol is not None:
        rules["download_protocol"] = protocol
    async with living([station]), running_worker(platform, locations=FakeDownloads()):
        await eventually(lambda: station.boots)
        created = await admin.post(
            "/rollouts", {"name": "p", "image_id": image_id, "policy": rules}
        )
        assert created.status_code == 201, created.text
        assert created.json()["policy"]["download_protocol"] == (protocol or "https")
        await admin.post(f"/rollouts/{created.json()['id']}/start")
        await eventually(lambda: station.calls("UpdateFirmware"), timeout=60)
    [update] = station.calls("UpdateFirmware")
    assert update["firmware"]["location"].startswith(f"{protocol or 'https'}://")


async def test_an_unknown_download_protocol_is_refused_naming_the_field(
    running: RunningPlatform, admin: Admin
) -> None:
    image_id = add_image(running.platform, add_family(running.platform, "proto"), "2.0.0")
    rules = {**policy("proto"), "download_protocol": "tftp"}
    for path, body in (
        ("/rollouts/preview", {"image_id": image_id, "policy": rules}),
        ("/rollouts", {"name": "p", "image_id": image_id, "policy": rules}),
    ):
        refused = await admin.post(path, body)
        assert refused.status_code == 422, refused.text
        assert "download_protocol: one of https, ftp" in refused.text
    assert (await admin.get("/rollouts")).json()["total"] == 0
