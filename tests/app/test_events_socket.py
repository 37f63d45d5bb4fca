"""``/api/v1/events``: each user hears only the stations they may use; bad tokens get 1008."""

from __future__ import annotations

import json
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.identity.jwt_tokens import Principal
from app.live import message
from app.platform import Platform
from charging.events import HeartbeatReceived
from common.clock import utcnow
from tests.eventually import eventually_sync
from tests.factories import PASSWORD, admin_headers, password_tokens
from tests.owner_helpers import login, make_device, pair

OWNERS = "SN-EVT-0001"
STRANGERS = "SN-EVT-0002"
URL = "/api/v1/events"


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def wait_for_listeners(platform: Platform, count: int) -> None:
    hub = platform.events
    eventually_sync(
        lambda: len(hub.subscriptions) >= count, timeout=5, message="the sockets never subscribed"
    )


def publish(platform: Platform, station_id: str) -> None:
    platform.events.publish(message(HeartbeatReceived(station_id=station_id), None))


def test_a_stranger_hears_nothing_of_another_owners_station(
    client: TestClient, platform: Platform
) -> None:
    owner = login(platform, client, "owner@example.com")
    pair(client, owner, make_device(platform, OWNERS))
    stranger = login(platform, client, "stranger@example.com")
    pair(client, stranger, make_device(platform, STRANGERS))
    with (
        client.websocket_connect(f"{URL}?token={token_of(owner)}") as owners_socket,
        client.websocket_connect(URL, headers=stranger) as strangers_socket,
    ):
        wait_for_listeners(platform, 2)
        publish(platform, OWNERS)
        publish(platform, OWNERS)
        publish(platform, STRANGERS)
        # each socket delivers in publishing order: the stranger's first message is their own
        # station's, so neither event of the owner's station reached them
        first = json.loads(strangers_socket.receive_text())
        assert (first["type"], first["station_id"]) == ("HeartbeatReceived", STRANGERS)
        heard = [json.loads(owners_socket.receive_text())["station_id"] for _ in range(2)]
        assert heard == [OWNERS, OWNERS]
        publish(platform, STRANGERS)
        publish(platform, OWNERS)
        assert json.loads(owners_socket.receive_text())["station_id"] == OWNERS
        assert json.loads(strangers_socket.receive_text())["station_id"] == STRANGERS


def test_an_admin_hears_every_station(client: TestClient, platform: Platform) -> None:
    make_device(platform, OWNERS)
    admin = admin_headers(platform, client)
    with client.websocket_connect(URL, headers=admin) as socket:
        wait_for_listeners(platform, 1)
        publish(platform, OWNERS)
        publish(platform, STRANGERS)
        heard = [json.loads(socket.receive_text())["station_id"] for _ in range(2)]
    assert heard == [OWNERS, STRANGERS]


def forged(platform: Platform) -> str:
    return jwt.encode({"sub": "someone", "exp": 4102444800}, "not-the-secret-0123456789abcdef!!")


def expired(platform: Platform) -> str:
    principal = Principal("someone", "user", frozenset({"owner"}))
    return platform.tokens.issue(principal, now=utcnow() - timedelta(hours=2))


@pytest.mark.parametrize(
    "where",
    ["query", "header"],
)
@pytest.mark.parametrize(
    "make_token",
    [expired, forged, lambda _: "garbage", lambda _: "a.b.c", lambda _: ""],
    ids=["expired", "forged", "garbage", "three-dots", "empty"],
)
def test_a_bad_token_closes_the_socket_with_1008_before_anything_is_sent(
    client: TestClient, platform: Platform, where: str, make_token: object
) -> None:
    assert callable(make_token)
    token = make_token(platform)
    url, headers = (
        (f"{URL}?token={token}", {})
        if where == "query"
        else (
            URL,
            {"Authorization": f"Bearer {token}"},
        )
    )
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(url, headers=headers) as socket,
    ):
        socket.receive_text()
    assert refused.value.code == 1008
    assert platform.events.subscriptions == set()


def test_a_socket_without_any_token_is_closed_with_1008(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(URL) as socket:
        socket.receive_text()
    assert refused.value.code == 1008


def test_a_refresh_token_is_not_a_bearer_token_for_the_socket(
    client: TestClient, platform: Platform
) -> None:
    login(platform, client, "owner@example.com")
    refresh = password_tokens(client, "owner@example.com", PASSWORD)["refresh_token"]
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(f"{URL}?token={refresh}") as socket,
    ):
        socket.receive_text()
    assert refused.value.code == 1008
