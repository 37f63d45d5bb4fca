"""The station list, one station's page, its live fragments and its remote command forms."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit import AuditEntry
from app.platform import Platform
from charging.commands import (
    CommandResult,
    Configure,
    GetConfiguration,
    StartCharging,
    StopCharging,
)
from charging.tables import Transaction
from common.clock import utcnow
from firmware.rollout_tables import RolloutRow, RolloutTargetRow
from tests.dashboard.fleet import (
    FakeBus,
    add_family,
    add_rows,
    add_station,
    certificate,
    connector,
    finished_session,
    firmware_report,
    running_session,
)
from tests.dashboard.pages import log_in, post_login
from tests.factories import make_user


def seed(platform: Platform) -> None:
    now = utcnow()
    wall = add_family(platform, "wallbox-1")
    add_family(platform, "pillar-2")
    add_station(platform, "CP-1", family_id=wall, online=True, serial="SN-111", now=now)
    add_station(platform, "CP-2", family_id=wall, model="Pillar", now=now)
    add_station(platform, "OTHER-3", model="<b>Odd</b>", now=now)
    add_rows(
        platform,
        connector("CP-1", "Occupied", now),
        connector("CP-1", "Faulted", now, evse_id=2),
        finished_session("CP-1", "41", now - timedelta(hours=3), 2500.0),
        certificate("CP-1", "0BEEF1", now + timedelta(days=200)),
        certificate("CP-1", "0BEEF0", now + timedelta(days=100), status="revoked"),
        firmware_report("CP-1", "status", "Installed", now - timedelta(minutes=3)),
        firmware_report("CP-1", "boot", "1.0.0", now - timedelta(minutes=2)),
        firmware_report("CP-1", "fault", "Faulted", now - timedelta(minutes=1)),
    )
    running_session(platform, "CP-1", "42", now - timedelta(minutes=10))
    add_rows(platform, RolloutRow(id=7, name="spring", family_id=wall, policy="{}"))
    add_rows(
        platform,
        RolloutTargetRow(
            rollout_id=7,
            station_id="CP-1",
            wave=0,
            state="succeeded",
            old_version="0.9.0",
            new_version="1.0.0",
        ),
    )


def ids_listed(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('data-station="')[1:]]


def test_the_list_searches_and_filters(platform: Platform, client: TestClient) -> None:
    seed(platform)
    log_in(platform, client, "support")
    page = client.get("/stations")
    assert page.status_code == 200 and page.text.count("<h1>") == 1
    assert ids_listed(page.text) == ["CP-1", "CP-2", "OTHER-3"]
    assert "&lt;b&gt;Odd&lt;/b&gt;" in page.text and "<b>Odd" not in page.text
    assert ids_listed(client.get("/stations?q=sn-111").text) == ["CP-1"]
    assert ids_listed(client.get("/stations?q=pillar").text) == ["CP-2"]
    assert ids_listed(client.get("/stations?q=other").text) == ["OTHER-3"]
    assert ids_listed(client.get("/stations?state=online").text) == ["CP-1"]
    assert ids_listed(client.get("/stations?state=offline").text) == ["CP-2", "OTHER-3"]
    assert ids_listed(client.get("/stations?state=faulted").text) == ["CP-1"]
    assert ids_listed(client.get("/stations?family=wallbox-1").text) == ["CP-1", "CP-2"]
    assert ids_listed(client.get("/stations?family=pillar-2").text) == []
    assert ids_listed(client.get("/stations?q=%25").text) == []  # LIKE wildcards are literal
    fragment = client.get("/stations?state=online", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and ids_listed(fragment.text) == ["CP-1"]


def test_a_hostile_query_renders_the_list(platform: Platform, client: TestClient) -> None:
    seed(platform)
    log_in(platform, client, "admin")
    hostile = "<script>alert(1)</script>"
    page = client.get(
        "/stations", params={"q": hostile + "x" * 50_000, "state": "'; drop", "offset": "-1e9"}
    )
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text
    assert "No station matches." in page.text
    assert ids_listed(client.get("/stations?state=bogus&family=&offset=abc").text) == [
        "CP-1",
        "CP-2",
        "OTHER-3",
    ]


def test_the_list_pages(platform: Platform, client: TestClient) -> None:
    now = utcnow()
    for n in range(55):
        add_station(platform, f"ST-{n:03d}", now=now)
    log_in(platform, client, "admin")
    first = client.get("/stations")
    assert len(ids_listed(first.text)) == 50 and 'href="/stations?offset=50"' in first.text
    second = client.get("/stations?offset=50")
    assert ids_listed(second.text) == [f"ST-{n:03d}" for n in range(50, 55)]
    assert 'rel="next"' not in second.text


def test_a_station_page_shows_everything_about_it(platform: Platform, client: TestClient) -> None:
    seed(platform)
    log_in(platform, client, "admin")
    page = client.get("/stations/CP-1")
    assert page.status_code == 200, page.text
    html = page.text
    assert html.count("<h1>") == 1 and "<h1>Station CP-1</h1>" in html
    assert "wallbox-1" in html and "SN-111" in html
    assert 'data-connector="1-1"' in html and 'data-connector="2-1"' in html
    assert 'hx-get="/stations/CP-1/connectors"' in html and 'data-live-station="CP-1"' in html
    with Session(platform.engine) as session:
        running = session.exec(select(Transaction).where(Transaction.transaction_ref == "42")).one()
    assert f'href="/sessions/{running.id}"' in html
    assert 'href="/certificates/0BEEF1"' in html and "0BEEF0" not in html
    assert "Installed" in html and "booted" in html and "Faulted</td>" not in html
    assert 'href="/firmware/rollouts/7"' in html and "<td>0.9.0</td>" in html
    # the stop form is filled in with the running session
    assert 'name="stop-transaction_ref" type="text" value="42"' in html
    for name in ("start", "stop", "reset", "unlock", "availability", "configure", "trigger"):
        assert f'action="/stations/CP-1/commands/{name}"' in html
    assert 'action="/stations/CP-1/commands/get-configuration"' in html


def test_the_live_fragments(platform: Platform, client: TestClient) -> None:
    seed(platform)
    log_in(platform, client, "support")
    connectors = client.get("/stations/CP-1/connectors")
    assert connectors.status_code == 200 and "<html" not in connectors.text
    assert 'data-connector="2-1"' in connectors.text and "Faulted" in connectors.text
    sessions = client.get("/stations/CP-1/sessions")
    assert 'data-session="42"' in sessions.text and 'data-session="41"' in sessions.text
    assert "commands/stop" not in sessions.text  # support: no stop buttons
    assert client.get("/stations/NOPE/connectors").status_code == 404
    assert client.get("/stations/NOPE/sessions").status_code == 404


def test_an_unknown_station_is_a_404_page(platform: Platform, client: TestClient) -> None:
    csrf = log_in(platform, client, "admin")
    page = client.get("/stations/%3Cscript%3E")
    assert page.status_code == 404 and "No such station" in page.text
    assert "<script>" not in page.text and "text/html" in page.headers["content-type"]
    posted = client.post(
        "/stations/NOPE/commands/reset", data={"csrf_token": csrf, "reset-mode": "OnIdle"}
    )
    assert posted.status_code == 404 and "No such station" in posted.text


def test_support_sees_the_page_without_forms_and_cannot_act(
    platform: Platform, client: TestClient
) -> None:
    seed(platform)
    bus = FakeBus()
    platform.commands = bus
    csrf = log_in(platform, client, "support")
    page = client.get("/stations/CP-1")
    assert page.status_code == 200 and "/commands/" not in page.text
    assert "needs the admin role" in page.text
    refused = client.post(
        "/stations/CP-1/commands/reset", data={"csrf_token": csrf, "reset-mode": "OnIdle"}
    )
    assert refused.status_code == 403 and bus.sent == []


def test_manufacturing_cannot_open_station_pages(platform: Platform, client: TestClient) -> None:
    seed(platform)
    make_user(platform, "line@example.com", "manufacturing")
    assert post_login(client, "line@example.com").status_code == 303
    assert client.get("/stations").status_code == 403
    assert client.get("/stations/CP-1").status_code == 403


def test_a_post_without_the_csrf_token_is_refused(platform: Platform, client: TestClient) -> None:
    seed(platform)
    bus = FakeBus()
    platform.commands = bus
    log_in(platform, client, "admin")
    refused = client.post("/stations/CP-1/commands/reset", data={"reset-mode": "OnIdle"})
    assert refused.status_code == 403 and bus.sent == []


def test_start_sends_the_command_and_shows_the_answer(
    platform: Platform, client: TestClient
) -> None:
    seed(platform)
    bus = FakeBus()
    platform.commands = bus
    csrf = log_in(platform, client, "admin", email="boss@example.com")
    answer = client.post(
        "/stations/CP-1/commands/start",
        data={"csrf_token": csrf, "start-id_token": "CARD-9", "start-id_token_type": "ISO14443"},
    )
    assert answer.status_code == 200, answer.text
    assert "<h1>Station CP-1</h1>" in answer.text
    assert 'data-status="Accepted"' in answer.text and "(remote start " in answer.text
    [(station_id, command)] = bus.sent
    assert station_id == "CP-1" and isinstance(command, StartCharging)
    assert command.id_token.value == "CARD-9" and command.remote_start_id is not None
    with Session(platform.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "station.command")).one()
    assert entry.object_id == "CP-1" and entry.actor.startswith("user:")
    assert '"StartCharging"' in entry.detail


def test_an_htmx_post_gets_only_the_answer_box(platform: Platform, client: TestClient) -> None:
    seed(platform)
    bus = FakeBus(result=CommandResult("Rejected", {"status": "Rejected"}))
    platform.commands = bus
    csrf = log_in(platform, client, "admin")
    answer = client.post(
        "/stations/CP-1/commands/stop",
        data={"stop-transaction_ref": "42"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div class="answer')
    assert 'data-status="Rejected"' in answer.text
    assert bus.sent == [("CP-1", StopCharging("42"))]
    refused = client.post(
        "/stations/CP-1/commands/unlock",
        data={"unlock-evse_id": "<script>"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert refused.status_code == 200 and 'data-status="Not sent"' in refused.text
    assert "evse id: Input should be a valid integer" in refused.text
    assert "<script>" not in refused.text


def test_configuration_read_shows_the_values(platform: Platform, client: TestClient) -> None:
    seed(platform)
    result = CommandResult(
        "Accepted",
        {"configurationKey": [{"key": "HeartbeatInterval", "value": "60"}]},
        {"HeartbeatInterval": "60", "Nope": None},
    )
    bus = FakeBus(result=result)
    platform.commands = bus
    csrf = log_in(platform, client, "admin")
    answer = client.post(
        "/stations/CP-1/commands/get-configuration",
        data={"csrf_token": csrf, "get-configuration-keys": "HeartbeatInterval, Nope"},
    )
    assert answer.status_code == 200
    assert "HeartbeatInterval" in answer.text and "(unknown key)" in answer.text
    assert bus.sent == [("CP-1", GetConfiguration(("HeartbeatInterval", "Nope")))]


def test_hostile_input_is_refused_with_the_field_error(
    platform: Platform, client: TestClient
) -> None:
    seed(platform)
    bus = FakeBus()
    platform.commands = bus
    csrf = log_in(platform, client, "admin")
    huge = "<script>alert(1)</script>" + "x" * 100_000
    answer = client.post(
        "/stations/CP-1/commands/start", data={"csrf_token": csrf, "start-id_token": huge}
    )
    assert answer.status_code == 422
    assert 'id="e-start-id_token"' in answer.text and "at most 36 characters" in answer.text
    assert "<script>alert(1)" not in answer.text and len(answer.text) < 60_000
    missing = client.post("/stations/CP-1/commands/unlock", data={"csrf_token": csrf})
    assert missing.status_code == 422 and 'id="e-unlock-evse_id"' in missing.text
    bad_number = client.post(
        "/stations/CP-1/commands/unlock", data={"csrf_token": csrf, "unlock-evse_id": "one"}
    )
    assert bad_number.status_code == 422 and 'id="e-unlock-evse_id"' in bad_number.text
    assert bus.sent == []
    key = client.post(
        "/stations/CP-1/commands/configure",
        data={"csrf_token": csrf, "configure-key": "<img src=x>", "configure-value": "1"},
    )
    assert key.status_code == 200 and "<img src=x>" not in key.text
    assert bus.sent == [("CP-1", Configure("<img src=x>", "1"))]


def test_an_offline_station_gets_a_clear_message(platform: Platform, client: TestClient) -> None:
    seed(platform)
    platform.commands = FakeBus(offline={"CP-2"})
    csrf = log_in(platform, client, "admin")
    page = client.get("/stations/CP-2")
    assert "The station is offline" in page.text
    answer = client.post(
        "/stations/CP-2/commands/reset", data={"csrf_token": csrf, "reset-mode": "Immediate"}
    )
    assert answer.status_code == 409
    assert 'data-status="Offline"' in answer.text and "nothing was sent" in answer.text


def test_without_a_gateway_the_page_says_so(platform: Platform, client: TestClient) -> None:
    seed(platform)
    platform.commands = None
    csrf = log_in(platform, client, "admin")
    answer = client.post(
        "/stations/CP-1/commands/trigger",
        data={"csrf_token": csrf, "trigger-message": "StatusNotification"},
    )
    assert answer.status_code == 409 and "does not reach the OCPP gateway" in answer.text


def test_an_unknown_command_is_a_404_page(platform: Platform, client: TestClient) -> None:
    seed(platform)
    csrf = log_in(platform, client, "admin")
    answer = client.post("/stations/CP-1/commands/self-destruct", data={"csrf_token": csrf})
    assert answer.status_code == 404 and "No such command" in answer.text
