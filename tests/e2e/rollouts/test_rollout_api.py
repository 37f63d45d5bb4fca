"""The rollout API refuses what it must, names the field, and leaves nothing half-written."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from firmware.rollout_tables import ActiveTargetRow, RolloutRow, RolloutTargetRow
from tests.e2e.conftest import RunningPlatform
from tests.e2e.firmware_fleet import Admin, add_family, add_field_stations, add_image, policy
from tests.problems import assert_problem


def fleet(running: RunningPlatform, version: str = "1.0.0") -> tuple[int, int]:
    """Family ``wb`` with stations A-1..A-4 on ``version``, and a signed image 2.0.0."""
    family_id = add_family(running.platform, "wb")
    add_field_stations(running.platform, "wb", [f"A-{n}" for n in range(1, 5)], version=version)
    return family_id, add_image(running.platform, family_id, "2.0.0")


def count(running: RunningPlatform, table: Any) -> int:
    with Session(running.platform.engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


async def test_a_bad_policy_is_refused_naming_the_field(
    running: RunningPlatform, admin: Admin
) -> None:
    _, image_id = fleet(running)
    cases = [
        (
            {"selection": {"family": "wb"}, "waves": {"kind": "fixed", "sizes": [0]}},
            "waves.sizes[0]",
        ),
        ({**policy("wb"), "bogus": 1}, "bogus"),
        ({**policy("wb"), "retries": "three"}, "retries"),
        ({"waves": {"kind": "fixed", "sizes": [1]}}, "selection"),
        ({**policy("wb"), "criteria": [{"kind": "nope", "percent": 5}]}, "criteria[0].kind"),
        ({**policy("wb"), "windows": [{"start": "25:00", "end": "04:00"}]}, "windows[0].start"),
    ]
    for body, field in cases:
        for path in ("/rollouts", "/rollouts/preview"):
            request = {"image_id": image_id, "policy": body}
            if path == "/rollouts":
                request["name"] = "bad"
            problem = assert_problem(await admin.post(path, request), 422, "validation-error")
            assert problem["errors"] == [
                {"field": f"policy.{field}", "message": problem["errors"][0]["message"]}  # type: ignore[index]
            ], (field, problem)
    assert count(running, RolloutRow) == 0


async def test_family_image_and_signature_are_checked(
    running: RunningPlatform, admin: Admin
) -> None:
    family_id, image_id = fleet(running)
    other = add_family(running.platform, "other")
    foreign = add_image(running.platform, other, "9.0.0")
    unsigned = add_image(running.platform, family_id, "2.0.1", signed=False)
    refusals = [
        ({"image_id": image_id, "policy": policy("nope")}, "policy.selection.family"),
        ({"image_id": 4242, "policy": policy("wb")}, "image_id"),
        ({"image_id": foreign, "policy": policy("wb")}, "image_id"),
        ({"image_id": unsigned, "policy": policy("wb")}, "image_id"),
    ]
    for body, field in refusals:
        problem = assert_problem(
            await admin.post("/rollouts", {"name": "x", **body}), 422, "validation-error"
        )
        assert problem["errors"][0]["field"] == field  # type: ignore[index]
    allowed = await admin.post(
        "/rollouts",
        {"name": "plain", "image_id": unsigned, "policy": policy("wb", allow_unsigned=True)},
    )
    assert allowed.status_code == 201, allowed.text
    hostile = await admin.post(
        "/rollouts", {"name": "x", "image_id": 2**40, "policy": policy("wb")}
    )
    assert_problem(hostile, 422, "validation-error")
    assert_problem(await admin.get("/rollouts/99"), 404, "not-found")
    assert_problem(await admin.get("/rollouts/99999999999"), 422, "validation-error")
    assert_problem(await admin.post("/rollouts/1/explode"), 422, "validation-error")


async def test_a_downgrade_needs_allow_downgrade(running: RunningPlatform, admin: Admin) -> None:
    _, image_id = fleet(running, version="3.1.0")
    refused = await admin.post(
        "/rollouts", {"name": "down", "image_id": image_id, "policy": policy("wb")}
    )
    problem = assert_problem(refused, 422, "downgrade-refused")
    assert problem["errors"][0]["field"] == "policy.allow_downgrade"  # type: ignore[index]
    assert problem["stations"] == ["A-1", "A-2", "A-3", "A-4"]
    assert count(running, RolloutRow) == 0 and count(running, RolloutTargetRow) == 0
    allowed = await admin.post(
        "/rollouts",
        {"name": "down", "image_id": image_id, "policy": policy("wb", allow_downgrade=True)},
    )
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["target_count"] == 4


async def test_two_rollouts_may_not_hold_one_station(
    running: RunningPlatform, admin: Admin
) -> None:
    _, image_id = fleet(running)
    first = await admin.post(
        "/rollouts",
        {
            "name": "two",
            "image_id": image_id,
            "policy": {
                "selection": {"family": "wb", "stations": ["A-1", "A-2"]},
                "waves": {"kind": "fixed", "sizes": [2]},
            },
        },
    )
    assert first.status_code == 201, first.text
    second = await admin.post(
        "/rollouts", {"name": "all", "image_id": image_id, "policy": policy("wb")}
    )
    problem = assert_problem(second, 409, "rollout-targets-overlap")
    assert problem["stations"] == ["A-1", "A-2"]
    assert problem["rollout_ids"] == [first.json()["id"]]
    assert "A-1, A-2" in str(problem["detail"])
    assert count(running, RolloutRow) == 1 and count(running, RolloutTargetRow) == 2
    # Once the first one ends, its stations are free again.
    cancelled = await admin.post(f"/rollouts/{first.json()['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert count(running, ActiveTargetRow) == 0
    again = await admin.post(
        "/rollouts", {"name": "all", "image_id": image_id, "policy": policy("wb")}
    )
    assert again.status_code == 201, again.text


async def test_concurrent_creates_over_one_fleet_leave_exactly_one(
    running: RunningPlatform, admin: Admin
) -> None:
    _, image_id = fleet(running)
    answers = await asyncio.gather(
        *(
            admin.post(
                "/rollouts", {"name": f"race {n}", "image_id": image_id, "policy": policy("wb")}
            )
            for n in range(6)
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 1, [a.text for a in answers]
    for answer in answers:
        if answer.status_code != 201:
            assert_problem(answer, 409, "rollout-targets-overlap")
    assert count(running, RolloutRow) == 1
    assert count(running, RolloutTargetRow) == 4 and count(running, ActiveTargetRow) == 4


async def test_illegal_moves_are_refused_and_admin_acts_are_audited(
    running: RunningPlatform, admin: Admin
) -> None:
    _, image_id = fleet(running)
    created = await admin.post(
        "/rollouts", {"name": "moves", "image_id": image_id, "policy": policy("wb")}
    )
    rollout_id = created.json()["id"]
    problem = assert_problem(
        await admin.post(f"/rollouts/{rollout_id}/pause"), 409, "invalid-transition"
    )
    assert problem["current_state"] == "draft" and problem["requested_state"] == "pause"
    assert_problem(await admin.post(f"/rollouts/{rollout_id}/resume"), 409, "invalid-transition")
    assert (await admin.post(f"/rollouts/{rollout_id}/start")).json()["state"] == "running"
    assert_problem(await admin.post(f"/rollouts/{rollout_id}/start"), 409, "invalid-transition")
    paused = await admin.post(f"/rollouts/{rollout_id}/pause", {"reason": "look first"})
    assert paused.json()["state"] == "paused" and paused.json()["reason"] == "look first"
    assert "resume" in paused.json()["_links"]
    bad_image = await admin.post(f"/rollouts/{rollout_id}/abort", {"image_id": image_id})
    assert_problem(bad_image, 422, "validation-error")
    aborted = await admin.post(f"/rollouts/{rollout_id}/abort", {"reason": "enough"})
    assert aborted.json()["state"] == "aborted"
    assert_problem(await admin.post(f"/rollouts/{rollout_id}/cancel"), 409, "invalid-transition")
    entries = (await admin.get("/audit?limit=100")).json()["items"]
    actions = [e["action"] for e in entries if e["object_type"] == "rollout"]
    assert set(actions) >= {"rollout.create", "rollout.start", "rollout.pause", "rollout.abort"}
    targets = (await admin.get(f"/rollouts/{rollout_id}/targets?limit=1")).json()
    assert targets["total"] == 4 and len(targets["items"]) == 1 and "next" in targets["_links"]
    assert (await admin.get(f"/rollouts/{rollout_id}/targets?wave=1")).json()["total"] == 2
