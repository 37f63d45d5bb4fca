"""A disabled account loses its access at once: REST over real HTTP and the events socket."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.api import events_ws
from app.identity import service
from app.identity.tables import User
from app.platform import Platform
from common.clock import utcnow
from tests.factories import PASSWORD, make_user
from tests.live import LiveServer
from tests.owner_helpers import make_device

UNAUTHORIZED = "https://chargeline.dev/problems/unauthorized"


def token(url: str, email: str) -> str:
    answer = httpx.post(
        f"{url}/oauth/token",
        data={"grant_type": "password", "username": email, "password": PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    access: str = answer.json()["access_token"]
    return access


def disable(platform: Platform, user_id: str) -> None:
    with Session(platform.engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        user.disabled = True
        session.add(user)
        session.commit()


def assert_refused(answer: httpx.Response, detail: str = "this account is disabled") -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == UNAUTHORIZED and answer.json()["detail"] == detail


def test_a_disabled_admins_token_reads_nothing_and_creates_no_admin(
    platform: Platform, live_server: LiveServer
) -> None:
    admin = make_user(platform, "admin@example.com", "admin")
    headers = {"Authorization": f"Bearer {token(live_server.url, 'admin@example.com')}"}
    assert httpx.get(f"{live_server.url}/api/v1/audit", headers=headers).status_code == 200
    disable(platform, admin.id)
    assert_refused(httpx.get(f"{live_server.url}/api/v1/audit", headers=headers))
    new_admin = {"email": "evil@example.com", "password": "0123456789abc", "roles": ["admin"]}
    assert_refused(httpx.post(f"{live_server.url}/api/v1/users", json=new_admin, headers=headers))
    with Session(platform.engine) as session:
        assert session.exec(select(User).where(User.email == "evil@example.com")).first() is None


def test_a_disabled_co_owner_lists_neither_stations_nor_members(
    platform: Platform, live_server: LiveServer
) -> None:
    labels = make_device(platform, "SN-DISABLED-01")
    owner = make_user(platform, "owner@example.com")
    headers = {"Authorization": f"Bearer {token(live_server.url, 'owner@example.com')}"}
    paired = httpx.post(
        f"{live_server.url}/api/v1/app/pairings",
        json={"device_label": labels.device, "packaging_label": labels.packaging},
        headers=headers,
    )
    assert paired.status_code == 201, paired.text
    disable(platform, owner.id)
    assert_refused(httpx.get(f"{live_server.url}/api/v1/app/stations", headers=headers))
    members = f"{live_server.url}/api/v1/app/stations/{labels.serial}/members"
    assert_refused(httpx.get(members, headers=headers))


def test_a_deleted_accounts_token_is_refused(platform: Platform, live_server: LiveServer) -> None:
    user = make_user(platform, "owner@example.com")
    access = platform.tokens.issue(service.user_principal(user), now=utcnow())
    headers = {"Authorization": f"Bearer {access}"}
    with Session(platform.engine) as session:
        session.delete(session.get(User, user.id))
        session.commit()
    answer = httpx.get(f"{live_server.url}/api/v1/me", headers=headers)
    assert_refused(answer, "this account no longer exists")


def ws_url(live_server: LiveServer, access: str) -> str:
    return f"{live_server.url.replace('http', 'ws', 1)}/api/v1/events?token={access}"


async def test_an_events_socket_is_closed_when_its_token_expires(
    platform: Platform, live_server: LiveServer
) -> None:
    user = make_user(platform, "owner@example.com")
    ttl = platform.settings.access_token_ttl
    almost = platform.tokens.issue(
        service.user_principal(user),
        now=utcnow() - ttl + timedelta(seconds=4),  # time to connect on a busy machine
    )
    async with connect(ws_url(live_server, almost)) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "token expired")


async def test_an_events_socket_is_closed_when_its_account_is_disabled(
    platform: Platform, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_ws, "ACCOUNT_CHECK_SECONDS", 0.2)
    user = make_user(platform, "owner@example.com")
    access = platform.tokens.issue(service.user_principal(user), now=utcnow())
    async with connect(ws_url(live_server, access)) as ws:
        await asyncio.to_thread(disable, platform, user.id)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "this account is disabled")
    with pytest.raises(InvalidStatus) as again:  # refused before the upgrade
        async with connect(ws_url(live_server, access)):
            pass
    assert again.value.response.status_code == 403
