"""The firmware pages over HTTP: channels and images, promotion with the downgrade guard, the
rollout form and its field errors, pause/resume/abort, and who may do what."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit import AuditEntry
from app.platform import Platform
from firmware.rollout_tables import RolloutRow, RolloutTargetRow
from tests.dashboard.pages import log_in, post_login
from tests.e2e.firmware_fleet import add_family, add_field_stations, add_image
from tests.factories import make_user


def fleet(platform: Platform, version: str = "1.0.0") -> int:
    """Family ``wb``, stations A-1..A-3 on ``version``; returns the signed image 2.0.0's id."""
    family_id = add_family(platform, "wb")
    add_field_stations(platform, "wb", ["A-1", "A-2", "A-3"], version=version)
    return add_image(platform, family_id, "2.0.0")


def audited(platform: Platform, action: str) -> list[AuditEntry]:
    with Session(platform.engine) as session:
        return list(session.exec(select(AuditEntry).where(col(AuditEntry.action) == action)))


def rollout_form(image_id: int, **fields: str) -> dict[str, str]:
    return {"name": "to 2.0.0", "image_id": str(image_id), "wave_sizes": "1, 2", **fields}


def create(client: TestClient, csrf: str, image_id: int, **fields: str) -> int:
    answer = client.post(
        "/firmware/rollouts/new",
        data={"csrf_token": csrf, **rollout_form(image_id, **fields)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    found = re.match(r"/firmware/rollouts/(\d+)\?done=", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


def test_the_firmware_page_shows_channels_per_family_and_the_images(
    platform: Platform, client: TestClient
) -> None:
    image_id = fleet(platform)
    csrf = log_in(platform, client, "admin")
    client.post(
        f"/firmware/images/{image_id}/promote", data={"csrf_token": csrf, "channel": "beta"}
    )
    page = client.get("/firmware")
    assert page.status_code == 200
    assert "<h1>Firmware</h1>" in page.text
    row = re.search(r"<td>beta</td>\s*<td><a href=\"/firmware/images/(\d+)\">2.0.0</a>", page.text)
    assert row and int(row.group(1)) == image_id, page.text
    assert "a" * 12 + "…" in page.text and "signed, verified at upload" in page.text
    assert client.get("/firmware?offset=abc").status_code == 200
    assert "No firmware images on this page" in client.get("/firmware?offset=50").text


def test_an_admin_promotes_an_image_and_the_downgrade_guard_answers_with_a_message(
    platform: Platform, client: TestClient
) -> None:
    newer = fleet(platform)
    older = add_image(platform, 1, "1.5.0")
    csrf = log_in(platform, client, "admin")
    page = client.get(f"/firmware/images/{newer}")
    assert page.status_code == 200 and "Put on the channel" in page.text
    done = client.post(
        f"/firmware/images/{newer}/promote",
        data={"csrf_token": csrf, "channel": "stable"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?done=promoted")
    shown = client.get(done.headers["location"])
    assert "The image is on the channel now." in shown.text
    assert re.search(r"Channels carrying it</dt><dd>stable</dd>", shown.text)
    refused = client.post(
        f"/firmware/images/{older}/promote", data={"csrf_token": csrf, "channel": "stable"}
    )
    assert refused.status_code == 409
    assert "carries 2.0.0, newer than 1.5.0" in refused.text
    unknown = client.post(
        f"/firmware/images/{older}/promote",
        data={"csrf_token": csrf, "channel": "<script>x</script>"},
    )
    assert unknown.status_code == 422 and "<script>x" not in unknown.text
    assert "has no channel" in unknown.text and 'aria-invalid="true"' in unknown.text
    forced = client.post(
        f"/firmware/images/{older}/promote",
        data={"csrf_token": csrf, "channel": "stable", "force": "on"},
        follow_redirects=False,
    )
    assert forced.status_code == 303
    assert len(audited(platform, "firmware.image_promoted")) == 2


def test_an_unknown_image_or_rollout_is_a_not_found_page(
    platform: Platform, client: TestClient
) -> None:
    log_in(platform, client, "admin")
    for path in (
        "/firmware/images/99",
        "/firmware/images/abc",
        "/firmware/images/99999999999999",
        "/firmware/rollouts/7",
        "/firmware/rollouts/x/progress",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "text/html" in answer.headers["content-type"] and "Not found" in answer.text


def test_the_rollout_form_names_the_fields_at_fault_and_escapes_what_it_shows(
    platform: Platform, client: TestClient
) -> None:
    image_id = fleet(platform)
    csrf = log_in(platform, client, "admin")
    form = client.get(f"/firmware/rollouts/new?image_id={image_id}")
    assert form.status_code == 200 and f'<option value="{image_id}" selected>' in form.text
    bad = client.post(
        "/firmware/rollouts/new",
        data={
            "csrf_token": csrf,
            **rollout_form(
                image_id,
                name="<script>alert(1)</script>" * 5000,
                wave_sizes="0, x",
                stations="A-1 <script>",
                window_start="25:00",
                failure_percent="120",
            ),
        },
    )
    assert bad.status_code == 422
    assert "<script>" not in bad.text and "&lt;script&gt;" in bad.text
    for message in (
        "at most 200 characters",
        "whole numbers of at least 1",
        "station ids are 1 to 48",
        "a time of day as HH:MM",
        "a percentage from 0 to 100",
    ):
        assert message in bad.text, message
    no_family = client.post(
        "/firmware/rollouts/new",
        data={"csrf_token": csrf, **rollout_form(image_id, family="nope")},
    )
    assert no_family.status_code == 422
    assert 'id="e-family">no hardware family &#39;nope&#39;' in no_family.text
    with Session(platform.engine) as session:
        assert session.exec(select(RolloutRow)).first() is None


def test_a_preview_shows_the_planned_waves_and_creates_nothing(
    platform: Platform, client: TestClient
) -> None:
    image_id = fleet(platform)
    csrf = log_in(platform, client, "admin")
    answer = client.post(
        "/firmware/rollouts/new",
        data={"csrf_token": csrf, "intent": "preview", **rollout_form(image_id)},
    )
    assert answer.status_code == 200
    assert "3 station(s) of wb would get 2.0.0" in answer.text
    rows = re.findall(r'<tr><td class="num">(\d)</td><td class="num">(\d)</td>', answer.text)
    assert rows == [("1", "1"), ("2", "2")]
    assert 'value="to 2.0.0"' in answer.text  # the form keeps what was typed
    with Session(platform.engine) as session:
        assert session.exec(select(RolloutRow)).first() is None


def test_a_downgrade_needs_the_box_ticked(platform: Platform, client: TestClient) -> None:
    image_id = fleet(platform, version="3.0.0")
    csrf = log_in(platform, client, "admin")
    refused = client.post(
        "/firmware/rollouts/new", data={"csrf_token": csrf, **rollout_form(image_id)}
    )
    assert refused.status_code == 422
    assert 'id="e-allow_downgrade">image 2.0.0 is older than what 3 station(s) run' in refused.text
    create(client, csrf, image_id, allow_downgrade="on")


def test_an_admin_starts_pauses_resumes_and_aborts_a_rollout(
    platform: Platform, client: TestClient
) -> None:
    image_id = fleet(platform)
    csrf = log_in(platform, client, "admin")
    rollout_id = create(client, csrf, image_id, start="on", stations="A-1, A-2")
    page = client.get(f"/firmware/rollouts/{rollout_id}?done=started")
    assert page.status_code == 200
    assert "The rollout is created and started." in page.text
    assert 'data-state="running"' in page.text
    assert "A-1" in page.text and "A-2" in page.text and "A-3" not in page.text
    assert 'hx-trigger="live, every 5s"' in page.text
    assert "0 of 2 station(s) finished" in page.text
    for action, state in (("pause", "paused"), ("resume", "running"), ("abort", "aborted")):
        moved = client.post(
            f"/firmware/rollouts/{rollout_id}/{action}",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert moved.status_code == 303, moved.text
        shown = client.get(moved.headers["location"])
        assert f'data-state="{state}"' in shown.text, action
    assert [e.action for e in audited(platform, "rollout.pause")] == ["rollout.pause"]
    assert len(audited(platform, "rollout.create")) == 1
    assert len(audited(platform, "rollout.start")) == 1
    fragment = client.get(f"/firmware/rollouts/{rollout_id}/progress")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'id="rollout-progress"' in fragment.text and "every 5s" not in fragment.text
    assert '<p id="rollout-summary" hx-swap-oob="innerHTML">' in fragment.text
    assert (
        "Rollout aborted: 2 of 2 station(s) finished, 0 succeeded, 0 failed, 2 cancelled."
        in fragment.text
    )
    assert "Resume" not in fragment.text and "Pause" not in fragment.text


def test_an_invalid_transition_is_shown_as_a_message(
    platform: Platform, client: TestClient
) -> None:
    image_id = fleet(platform)
    csrf = log_in(platform, client, "admin")
    rollout_id = create(client, csrf, image_id)
    refused = client.post(f"/firmware/rollouts/{rollout_id}/resume", data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert "cannot resume a rollout that is draft" in refused.text
    assert 'data-state="draft"' in refused.text
    unknown = client.post(f"/firmware/rollouts/{rollout_id}/explode", data={"csrf_token": csrf})
    assert unknown.status_code == 404


def test_a_rollout_is_rolled_back_to_the_version_its_stations_ran(
    platform: Platform, client: TestClient
) -> None:
    image_id = fleet(platform)
    csrf = log_in(platform, client, "admin")
    rollout_id = create(client, csrf, image_id, start="on")
    client.post(f"/firmware/rollouts/{rollout_id}/abort", data={"csrf_token": csrf})
    refused = client.post(f"/firmware/rollouts/{rollout_id}/rollback", data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert f"no station of rollout {rollout_id} took its image" in refused.text
    add_image(platform, 1, "1.0.0")
    with Session(platform.engine) as session:
        target = session.exec(
            select(RolloutTargetRow).where(col(RolloutTargetRow.station_id) == "A-1")
        ).one()
        target.state = "succeeded"
        session.add(target)
        session.commit()
    answer = client.post(
        f"/firmware/rollouts/{rollout_id}/rollback",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    back = client.get(answer.headers["location"])
    assert "Rollout rollback of to 2.0.0" in back.text and 'data-state="draft"' in back.text
    assert "A-1" in back.text and "A-2" not in back.text
    assert len(audited(platform, "rollout.rollback")) == 1


def test_lists_and_filters_take_hostile_queries(platform: Platform, client: TestClient) -> None:
    image_id = fleet(platform)
    csrf = log_in(platform, client, "admin")
    rollout_id = create(client, csrf, image_id, name="first <b>")
    listing = client.get("/firmware/rollouts")
    assert listing.status_code == 200 and "first &lt;b&gt;" in listing.text
    assert "No rollouts in state paused" in client.get("/firmware/rollouts?state=paused").text
    for query in ("state=%3Cscript%3E", "offset=-5", "offset=" + "9" * 40):
        assert client.get(f"/firmware/rollouts?{query}").status_code == 200, query
    filtered = client.get(f"/firmware/rollouts/{rollout_id}?wave=1&target_state=pending")
    assert filtered.status_code == 200
    assert "A-1" not in filtered.text and "A-2" in filtered.text and "A-3" in filtered.text
    hostile = client.get(f"/firmware/rollouts/{rollout_id}?wave=-1&target_state=<x>&offset=zz")
    assert hostile.status_code == 200 and "A-1" in hostile.text


def test_support_sees_every_page_but_cannot_act(platform: Platform, client: TestClient) -> None:
    image_id = fleet(platform)
    admin_csrf = log_in(platform, client, "admin")
    rollout_id = create(client, admin_csrf, image_id, start="on")
    client.cookies.clear()
    csrf = log_in(platform, client, "support")
    for path in (
        "/firmware",
        f"/firmware/images/{image_id}",
        "/firmware/rollouts",
        f"/firmware/rollouts/{rollout_id}",
        f"/firmware/rollouts/{rollout_id}/progress",
        "/firmware/rollouts/new",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'method="post" action="/firmware' not in page.text, path
    for path, data in (
        (f"/firmware/rollouts/{rollout_id}/pause", {}),
        ("/firmware/rollouts/new", rollout_form(image_id)),
        (f"/firmware/images/{image_id}/promote", {"channel": "stable"}),
        (f"/firmware/images/{image_id}/verify", {}),
    ):
        answer = client.post(path, data={"csrf_token": csrf, **data})
        assert answer.status_code == 403, path
    assert audited(platform, "rollout.pause") == []


def test_manufacturing_has_no_firmware_pages(platform: Platform, client: TestClient) -> None:
    fleet(platform)
    make_user(platform, "line@example.com", "manufacturing")
    assert post_login(client, "line@example.com").status_code == 303
    for path in ("/firmware", "/firmware/rollouts", "/firmware/images/1"):
        assert client.get(path).status_code == 403, path


def test_a_post_without_the_csrf_token_is_refused(platform: Platform, client: TestClient) -> None:
    image_id = fleet(platform)
    csrf = log_in(platform, client, "admin")
    rollout_id = create(client, csrf, image_id, start="on")
    for path, data in (
        (f"/firmware/rollouts/{rollout_id}/pause", {}),
        ("/firmware/rollouts/new", rollout_form(image_id)),
        (f"/firmware/images/{image_id}/promote", {"channel": "stable"}),
    ):
        assert client.post(path, data=data).status_code == 403, path
    assert audited(platform, "rollout.pause") == []
    with Session(platform.engine) as session:
        assert len(list(session.exec(select(RolloutRow)))) == 1
