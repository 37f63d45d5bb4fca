"""What admins count on: a rollout pauses itself at a failure threshold and resumes with a
replacement image, waits for sessions to end (or stops them), rolls back, keeps current."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.roles import running_worker
from firmware.tables import FirmwareChannelRow
from tests.e2e.conftest import RunningPlatform
from tests.e2e.firmware_fleet import (
    Admin,
    Behaviour,
    FakeDownloads,
    UpdatingStation,
    add_family,
    add_field_stations,
    add_image,
    living,
    policy,
)
from tests.eventually import eventually


async def rollout_in(admin: Admin, rollout_id: int, *states: str) -> dict[str, Any] | None:
    body: dict[str, Any] = (await admin.get(f"/rollouts/{rollout_id}")).json()
    return body if body["state"] in states else None


async def test_invalid_signatures_pause_the_rollout_and_a_replacement_image_finishes_it(
    running: RunningPlatform, admin: Admin
) -> None:
    platform = running.platform
    family_id = add_family(platform, "sig")
    ids = [f"S-{n:02d}" for n in range(1, 11)]
    add_field_stations(platform, "sig", ids)
    bad, good = add_image(platform, family_id, "2.0.0"), add_image(platform, family_id, "2.0.1")
    stations = [
        UpdatingStation(
            running.ocpp_url,
            s,
            "1.0.0",
            behaviour=Behaviour("invalid_signature" if s in ("S-01", "S-02") else "ok"),
        )
        for s in ids
    ]
    rules = policy(
        "sig",
        sizes=(2, 8),
        criteria=[{"kind": "signature", "percent": 10, "min_sample": 2, "action": "pause"}],
    )
    async with living(stations), running_worker(platform, locations=FakeDownloads()):
        await eventually(lambda: all(s.boots for s in stations), timeout=60)
        created = await admin.post("/rollouts", {"name": "sig", "image_id": bad, "policy": rules})
        rollout_id = created.json()["id"]
        await admin.post(f"/rollouts/{rollout_id}/start")
        paused = await eventually(lambda: rollout_in(admin, rollout_id, "paused"), timeout=60)
        assert "signature failures 100.0% >= 10%" in paused["reason"]
        assert paused["waves"][0]["counts"] == {"failed": 2}
        assert paused["waves"][1]["counts"] == {"pending": 8}
        failed = (await admin.get(f"/rollouts/{rollout_id}/targets?state=failed")).json()
        assert {t["failure"] for t in failed["items"]} == {"signature"}
        resumed = await admin.post(f"/rollouts/{rollout_id}/resume", {"image_id": good})
        assert resumed.status_code == 200, resumed.text
        done = await eventually(lambda: rollout_in(admin, rollout_id, "succeeded"), timeout=30)
    assert done["image_id"] == good and done["outcome"] == "successful"
    assert done["counts"] == {"failed": 2, "succeeded": 8}
    assert {s.station_id: s.version for s in stations} == {
        **dict.fromkeys(ids, "2.0.1"),
        "S-01": "1.0.0",
        "S-02": "1.0.0",
    }


async def test_a_station_in_a_session_is_updated_after_it_ends_or_stopped_when_forced(
    running: RunningPlatform, admin: Admin
) -> None:
    platform = running.platform
    running.add_id_token("TAG-1")
    family_id = add_family(platform, "busy")
    add_field_stations(platform, "busy", ["B-1", "B-2", "B-3"])
    image_id = add_image(platform, family_id, "2.0.0")
    busy = UpdatingStation(
        running.ocpp_url, "B-1", "1.0.0", behaviour=Behaviour(session_active=True)
    )
    idle = UpdatingStation(running.ocpp_url, "B-2", "1.0.0")
    forced = UpdatingStation(
        running.ocpp_url, "B-3", "1.0.0", behaviour=Behaviour(session_active=True)
    )
    async with living([busy, idle, forced]), running_worker(platform, locations=FakeDownloads()):
        await eventually(lambda: busy.boots and idle.boots and forced.boots)
        waiting = policy(
            "busy", sizes=(2,), selection={"family": "busy", "stations": ["B-1", "B-2"]}
        )
        first = await admin.post(
            "/rollouts", {"name": "wait", "image_id": image_id, "policy": waiting}
        )
        assert first.status_code == 201, first.text
        await admin.post(f"/rollouts/{first.json()['id']}/start")
        await eventually(lambda: idle.version == "2.0.0", timeout=60)
        assert busy.calls("UpdateFirmware") == []  # still charging: the update waits
        assert busy.calls("RequestStopTransaction") == []
        await busy._stop_session()
        await eventually(lambda: rollout_in(admin, first.json()["id"], "succeeded"), timeout=60)
        assert busy.version == "2.0.0"
        force = policy(
            "busy",
            sizes=(1,),
            during_transaction="force",
            selection={"family": "busy", "stations": ["B-3"]},
        )
        second = await admin.post(
            "/rollouts", {"name": "force", "image_id": image_id, "policy": force}
        )
        await admin.post(f"/rollouts/{second.json()['id']}/start")
        await eventually(lambda: rollout_in(admin, second.json()["id"], "succeeded"), timeout=60)
    assert [
        name for name, _ in forced.received if name in ("RequestStopTransaction", "UpdateFirmware")
    ][:2] == [
        "RequestStopTransaction",
        "UpdateFirmware",
    ]
    assert forced.version == "2.0.0"


async def test_a_rollback_brings_the_stations_that_took_the_image_back(
    running: RunningPlatform, admin: Admin
) -> None:
    platform = running.platform
    family_id = add_family(platform, "back")
    add_field_stations(platform, "back", ["R-1", "R-2"])
    add_image(platform, family_id, "1.0.0")
    new = add_image(platform, family_id, "2.0.0")
    stations = [UpdatingStation(running.ocpp_url, s, "1.0.0") for s in ("R-1", "R-2")]
    async with living(stations), running_worker(platform, locations=FakeDownloads()):
        await eventually(lambda: all(s.boots for s in stations), timeout=60)
        created = await admin.post(
            "/rollouts", {"name": "up", "image_id": new, "policy": policy("back")}
        )
        rollout_id = created.json()["id"]
        await admin.post(f"/rollouts/{rollout_id}/start")
        await eventually(lambda: rollout_in(admin, rollout_id, "succeeded"), timeout=60)
        back = await admin.post(f"/rollouts/{rollout_id}/rollback")
        assert back.status_code == 201, back.text
        assert back.json()["kind"] == "rollback" and back.json()["rollback_of"] == rollout_id
        assert back.json()["target_count"] == 2
        await admin.post(f"/rollouts/{back.json()['id']}/start")
        await eventually(lambda: rollout_in(admin, back.json()["id"], "succeeded"), timeout=60)
    assert [s.version for s in stations] == ["1.0.0", "1.0.0"]


async def test_keep_current_updates_stations_now_and_those_that_come_online_later(
    running: RunningPlatform, admin: Admin
) -> None:
    platform = running.platform
    family_id = add_family(platform, "kc")
    add_field_stations(platform, "kc", ["KC-1", "KC-2"])
    image_id = add_image(platform, family_id, "3.0.0")
    with Session(platform.engine) as session:
        session.add(FirmwareChannelRow(family_id=family_id, name="stable", image_id=image_id))
        session.commit()
    early = [UpdatingStation(running.ocpp_url, s, "1.0.0") for s in ("KC-1", "KC-2")]
    async with running_worker(platform, locations=FakeDownloads()), living(early):
        await eventually(lambda: all(s.boots for s in early))
        standing = await admin.post("/rollouts/keep-current", {"family": "kc"})
        assert standing.status_code == 201, standing.text
        again = await admin.post("/rollouts/keep-current", {"family": "kc"})
        assert again.status_code == 422
        await eventually(lambda: all(s.version == "3.0.0" for s in early), timeout=60)
        add_field_stations(platform, "kc", ["KC-3"])
        late = UpdatingStation(running.ocpp_url, "KC-3", "1.0.0")
        async with living([late]):

            async def all_current() -> bool:
                body = (await admin.get(f"/rollouts/{standing.json()['id']}")).json()
                return body["state"] == "running" and body["counts"] == {"succeeded": 3}

            await eventually(all_current, timeout=60)
        assert late.version == "3.0.0" and late.boots == 2
