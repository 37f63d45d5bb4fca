"""Rollouts as an admin runs them: over real HTTP against the running platform, with stations
of raw OCPP frames that take the update and reboot into it, and the worker in the process."""

from __future__ import annotations

from typing import Any

import httpx

from app.roles import running_worker
from tests.e2e.conftest import RunningPlatform
from tests.e2e.firmware_fleet import (
    FakeDownloads,
    UpdatingStation,
    add_family,
    add_field_stations,
    add_image,
    living,
    policy,
)
from tests.e2e.http import TIMEOUT
from tests.eventually import eventually
from tests.factories import admin_headers_http


async def test_a_rollout_updates_every_station_wave_by_wave(running: RunningPlatform) -> None:
    platform = running.platform
    family_id = add_family(platform, "wb-201")
    ids = ["RO-1", "RO-2", "RO-3"]
    add_field_stations(platform, "wb-201", ids)
    image_id = add_image(platform, family_id, "2.0.0")
    locations = FakeDownloads()
    stations = [UpdatingStation(running.ocpp_url, s, "1.0.0") for s in ids]
    async with (
        httpx.AsyncClient(base_url=running.api_url, timeout=TIMEOUT) as http,
        living(stations),
        running_worker(platform, locations=locations),
    ):
        headers = await admin_headers_http(platform, http)
        preview = await http.post(
            "/api/v1/rollouts/preview",
            json={"image_id": image_id, "policy": policy("wb-201")},
            headers=headers,
        )
        assert preview.status_code == 200, preview.text
        assert [w["size"] for w in preview.json()["waves"]] == [1, 2]
        assert preview.json()["targets"] == 3
        created = await http.post(
            "/api/v1/rollouts",
            json={"name": "2.0.0 to all", "image_id": image_id, "policy": policy("wb-201")},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        rollout = created.json()
        assert rollout["state"] == "draft"
        assert [w["size"] for w in rollout["waves"]] == [1, 2]
        await eventually(lambda: all(s.boots for s in stations), timeout=60)
        started = await http.post(f"/api/v1/rollouts/{rollout['id']}/start", headers=headers)
        assert started.status_code == 200, started.text

        async def finished() -> dict[str, Any] | None:
            body = (await http.get(f"/api/v1/rollouts/{rollout['id']}", headers=headers)).json()
            return body if body["state"] == "succeeded" else None

        done = await eventually(finished, timeout=60)
        assert done["outcome"] == "successful"
        assert done["counts"] == {"succeeded": 3}
        assert [w["counts"] for w in done["waves"]] == [{"succeeded": 1}, {"succeeded": 2}]
        targets = (
            await http.get(f"/api/v1/rollouts/{rollout['id']}/targets", headers=headers)
        ).json()
        assert {t["station_id"]: t["new_version"] for t in targets["items"]} == dict.fromkeys(
            ids, "2.0.0"
        )
        request_ids = [t["request_id"] for t in targets["items"]]
        assert len(set(request_ids)) == 3
    for s in stations:
        updates = s.calls("UpdateFirmware")
        assert len(updates) == 1, updates
        assert updates[0]["firmware"]["signature"] == "c2lnbmF0dXJl"
        assert s.calls("GetInstalledCertificateIds")
        assert s.roots == [platform.ca.manufacturer_root_pem()]
        assert s.version == "2.0.0"
