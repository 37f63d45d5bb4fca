"""Every app endpoint against a stranger, a removed guest and an expired token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.clock import utcnow
from app.identity.jwt_tokens import Principal
from app.platform import Platform
from tests.factories import bearer
from tests.owners.helpers import Inbox, login, make_device, pair

SERIAL = "SN-MATRIX-01"
ENDPOINTS = [
    ("GET", f"/api/v1/app/stations/{SERIAL}", None),
    ("DELETE", f"/api/v1/app/stations/{SERIAL}/ownership", None),
    (
        "POST",
        f"/api/v1/app/stations/{SERIAL}/invitations",
        {"email": "x@example.com", "role": "guest"},
    ),
    ("GET", f"/api/v1/app/stations/{SERIAL}/members", None),
    ("DELETE", f"/api/v1/app/stations/{SERIAL}/members/someone", None),
    ("POST", f"/api/v1/app/stations/{SERIAL}/charging", None),
    ("GET", "/api/v1/app/sessions/1", None),
    ("POST", "/api/v1/app/sessions/1/stop", None),
    ("DELETE", "/api/v1/app/cards/OWNERCARD", None),
]
ACCOUNT_ENDPOINTS = [
    ("GET", "/api/v1/app/me", None),
    ("GET", "/api/v1/app/stations", None),
    ("GET", "/api/v1/app/cards", None),
    ("GET", "/api/v1/app/sessions", None),
    ("POST", "/api/v1/app/cards", {"id_token": "X1"}),
    ("POST", "/api/v1/app/certificates", {"csr": "x"}),
    ("POST", "/api/v1/app/pairings", {"device_label": "x", "packaging_label": "y"}),
    ("POST", "/api/v1/app/invitations/accept", {"token": "x"}),
    ("POST", "/api/v1/app/verify-email/resend", None),
]


@pytest.fixture
def world(client: TestClient, platform: Platform, inbox: Inbox) -> dict[str, dict[str, str]]:
    owner = login(platform, client, "owner@example.com")
    pair(client, owner, make_device(platform, SERIAL))
    client.post("/api/v1/app/cards", json={"id_token": "OWNERCARD"}, headers=owner)
    stranger = login(platform, client, "stranger@example.com")
    pair(client, stranger, make_device(platform, "SN-MATRIX-02"))
    guest = login(platform, client, "guest@example.com")
    client.post(
        f"/api/v1/app/stations/{SERIAL}/invitations",
        json={"email": "guest@example.com", "role": "guest"},
        headers=owner,
    )
    token = inbox.token("guest@example.com", "/app/invitations/accept")
    joined = client.post("/api/v1/app/invitations/accept", json={"token": token}, headers=guest)
    assert joined.status_code == 200
    guest_id = client.get("/api/v1/app/me", headers=guest).json()["id"]
    removed = client.delete(f"/api/v1/app/stations/{SERIAL}/members/{guest_id}", headers=owner)
    assert removed.status_code == 204
    reused = client.post("/api/v1/app/invitations/accept", json={"token": token}, headers=guest)
    assert reused.status_code == 410
    return {"stranger": stranger, "removed guest": guest}


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("who", ["stranger", "removed guest"])
def test_outsiders_learn_nothing_about_a_station(
    client: TestClient,
    world: dict[str, dict[str, str]],
    who: str,
    method: str,
    path: str,
    body: object,
) -> None:
    response = client.request(method, path, json=body, headers=world[who])
    assert response.status_code == 404, response.text
    assert response.json()["detail"].endswith("not found")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS + ACCOUNT_ENDPOINTS)
def test_an_expired_token_is_refused_everywhere(
    client: TestClient, platform: Platform, method: str, path: str, body: object
) -> None:
    expired = platform.tokens.issue(
        Principal("someone", "user", frozenset({"owner"})), now=utcnow() - timedelta(hours=2)
    )
    response = client.request(method, path, json=body, headers=bearer(expired))
    assert response.status_code == 401


def test_the_events_socket_refuses_an_expired_token(client: TestClient, platform: Platform) -> None:
    from starlette.websockets import WebSocketDisconnect

    expired = platform.tokens.issue(
        Principal("someone", "user", frozenset({"owner"})), now=utcnow() - timedelta(hours=2)
    )
    url = f"/api/v1/events?token={expired}"
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(url) as ws:
        ws.receive_text()
    assert refused.value.code == 1008
