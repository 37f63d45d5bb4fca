"""Hardening of dashboard logins and sessions: lockout, expiry, CSRF, origins, fixation.

Time moves through ``app.dependency_overrides[get_now]``: every page and the login read the
clock through that dependency.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette.websockets import WebSocketDisconnect

from app.dashboard.auth import COOKIE
from app.dashboard.session_store import IDLE, LIFETIME
from app.dashboard.tables import DashboardSession
from app.deps import get_now
from app.live import message
from app.platform import Platform
from charging.events import HeartbeatReceived
from common.clock import utcnow
from tests.dashboard.pages import log_in, post_login
from tests.eventually import eventually_sync
from tests.factories import PASSWORD, admin_headers, make_user

EVENTS = "/api/v1/events"
SAME_ORIGIN = "http://testserver"


def login_csrf_of(html: str) -> str:
    found = re.search(r'name="login_csrf" value="([^"]+)"', html)
    assert found, "the login form carries no token"
    return found.group(1)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def move(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def clock(client: TestClient) -> Iterator[Clock]:
    moved = Clock()
    client.app.dependency_overrides[get_now] = moved  # type: ignore[attr-defined]
    yield moved
    client.app.dependency_overrides.pop(get_now, None)  # type: ignore[attr-defined]


def stored_sessions(platform: Platform) -> list[DashboardSession]:
    with Session(platform.engine) as session:
        return list(session.exec(select(DashboardSession)))


# lockout: the dashboard and /oauth/token share one throttle


def api_login(client: TestClient, email: str, password: str) -> int:
    answer = client.post(
        "/oauth/token", data={"grant_type": "password", "username": email, "password": password}
    )
    return answer.status_code


def test_after_the_allowed_failures_even_the_right_password_is_refused(
    platform: Platform, client: TestClient
) -> None:
    make_user(platform, "admin@example.com", "admin")
    for _ in range(platform.settings.login_max_failures):
        assert post_login(client, "admin@example.com", "wrong password!").status_code == 401
    answer = post_login(client, "admin@example.com")
    assert answer.status_code == 429 and "Too many failed attempts" in answer.text
    assert COOKIE not in client.cookies
    assert api_login(client, "admin@example.com", PASSWORD) == 429  # the API is locked too


def test_failures_on_the_dashboard_and_the_api_add_up(
    platform: Platform, client: TestClient
) -> None:
    make_user(platform, "admin@example.com", "admin")
    allowed = platform.settings.login_max_failures
    for _ in range(allowed - 1):
        assert post_login(client, "admin@example.com", "wrong password!").status_code == 401
    assert api_login(client, "admin@example.com", "wrong password!") == 400
    answer = post_login(client, "admin@example.com")
    assert answer.status_code == 429 and "Too many failed attempts" in answer.text


# expiry


def test_an_idle_session_sends_the_browser_to_the_login_page_and_back(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    log_in(platform, client, "admin")
    clock.move(IDLE - timedelta(minutes=1))
    assert client.get("/").status_code == 200  # a request keeps it alive
    clock.move(IDLE - timedelta(minutes=1))
    assert client.get("/").status_code == 200
    clock.move(IDLE)
    answer = client.get("/?tab=live", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/?tab=live"
    assert stored_sessions(platform) == []  # the expired session is gone


def test_a_session_ends_after_its_lifetime_however_busy(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    log_in(platform, client, "admin")
    started = clock.now
    while clock.now + IDLE / 2 < started + LIFETIME:
        clock.move(IDLE / 2)
        assert client.get("/").status_code == 200
    clock.move(IDLE / 2)
    answer = client.get("/?tab=live", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/?tab=live"


def test_an_htmx_request_with_an_expired_session_redirects_the_whole_page(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    log_in(platform, client, "support")
    clock.move(IDLE)
    answer = client.get("/?tab=live", headers={"HX-Request": "true"}, follow_redirects=False)
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"] == "/login?next=/?tab=live"


# CSRF and origins


@pytest.mark.parametrize(
    "sent",
    [{}, {"data": {"csrf_token": "forged"}}, {"headers": {"X-CSRF-Token": "forged"}}],
    ids=["missing", "wrong-field", "wrong-header"],
)
def test_a_post_without_the_sessions_csrf_token_gets_a_403_page(
    platform: Platform, client: TestClient, sent: dict[str, dict[str, str]]
) -> None:
    log_in(platform, client, "admin")
    answer = client.post("/logout", follow_redirects=False, **sent)  # type: ignore[arg-type]
    assert answer.status_code == 403 and "<h1>Not allowed</h1>" in answer.text
    assert "CSRF token is missing or wrong" in answer.text
    assert client.get("/").status_code == 200  # nothing happened


def test_a_post_from_another_origin_is_refused_even_with_the_token(
    platform: Platform, client: TestClient
) -> None:
    csrf = log_in(platform, client, "admin")
    answer = client.post(
        "/logout",
        data={"csrf_token": csrf},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "posted from another site" in answer.text
    assert client.get("/").status_code == 200
    same = client.post(
        "/logout",
        data={"csrf_token": csrf},
        headers={"Origin": SAME_ORIGIN},
        follow_redirects=False,
    )
    assert same.status_code == 303


# the stored sessions


def test_the_cookie_token_is_stored_only_as_its_hash(
    platform: Platform, client: TestClient
) -> None:
    log_in(platform, client, "admin")
    token = client.cookies[COOKIE]
    [row] = stored_sessions(platform)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(row.model_dump(mode="json"))


def test_logging_out_ends_only_that_session(platform: Platform, client: TestClient) -> None:
    csrf = log_in(platform, client, "admin")
    with TestClient(client.app) as other:
        assert post_login(other, "admin@example.com").status_code == 303
        assert other.get("/").status_code == 200
        assert client.post("/logout", data={"csrf_token": csrf}).status_code == 200
        assert client.get("/", follow_redirects=False).status_code == 303
        assert other.get("/").status_code == 200
    assert len(stored_sessions(platform)) == 1


def test_logging_in_starts_a_new_session_and_ends_the_one_the_browser_held(
    platform: Platform, client: TestClient
) -> None:
    victim = make_user(platform, "admin@example.com", "admin")
    make_user(platform, "attacker@example.com", "admin")
    with TestClient(client.app) as attacker:
        assert post_login(attacker, "attacker@example.com").status_code == 303
        planted = attacker.cookies[COOKIE]
        form = client.get("/login")
        client.cookies.set(COOKIE, planted, domain="testserver.local")  # session fixation
        answer = client.post(
            "/login",
            data={
                "email": "admin@example.com",
                "password": PASSWORD,
                "login_csrf": login_csrf_of(form.text),
                "next": "/",
            },
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert client.cookies[COOKIE] != planted
        assert attacker.get("/", follow_redirects=False).status_code == 303  # closed
    [row] = stored_sessions(platform)
    assert row.subject == victim.id
    assert row.token_hash == hashlib.sha256(client.cookies[COOKIE].encode()).hexdigest()


# the events socket


def heard_on(platform: Platform, socket: object) -> str:
    eventually_sync(
        lambda: len(platform.events.subscriptions) >= 1,
        timeout=5,
        message="the socket never subscribed",
    )
    platform.events.publish(message(HeartbeatReceived(station_id="SN-ORIGIN-1"), None))
    return str(json.loads(socket.receive_text())["station_id"])  # type: ignore[attr-defined]


def test_a_session_cookie_from_another_origin_does_not_open_the_events_socket(
    platform: Platform, client: TestClient
) -> None:
    log_in(platform, client, "admin")
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(EVENTS, headers={"Origin": "https://evil.example"}) as socket,
    ):
        socket.receive_text()
    assert (refused.value.code, refused.value.reason) == (1008, "origin not allowed")


def test_the_sites_own_origin_opens_the_events_socket_with_the_cookie(
    platform: Platform, client: TestClient
) -> None:
    log_in(platform, client, "support")
    with client.websocket_connect(EVENTS, headers={"Origin": SAME_ORIGIN}) as socket:
        assert heard_on(platform, socket) == "SN-ORIGIN-1"


def test_an_allowed_origin_opens_the_events_socket(platform: Platform, client: TestClient) -> None:
    platform.settings = platform.settings.model_copy(
        update={"allowed_origins": ("https://ops.example",)}
    )
    log_in(platform, client, "admin")
    with client.websocket_connect(EVENTS, headers={"Origin": "https://ops.example"}) as socket:
        assert heard_on(platform, socket) == "SN-ORIGIN-1"


def test_a_bearer_token_client_without_an_origin_still_connects(
    platform: Platform, client: TestClient
) -> None:
    headers = admin_headers(platform, client)
    assert COOKIE not in client.cookies
    with client.websocket_connect(EVENTS, headers=headers) as socket:
        assert heard_on(platform, socket) == "SN-ORIGIN-1"
