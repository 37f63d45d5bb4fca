"""Every app endpoint against a stranger, a removed guest and an expired token.

The scenario (an owner, a stranger, a removed guest) is built once per module and backend:
creating its users dominates the cost (Argon2). Every refused request must leave it as it was,
which :func:`unchanged` checks after each case, so sharing it weakens nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.ca.tables import IssuedCertificateRow
from app.identity.jwt_tokens import Principal
from app.identity.tables import LoginFailure
from app.main import create_app
from app.platform import Platform, build_platform
from app.settings import Settings
from charging.tables import CardGrant, IdTokenRow
from common.clock import utcnow
from enrollment.ownership.tables import InvitationRow, Membership
from enrollment.tables import DeviceRow
from tests.conftest import BACKENDS, PG_URL, _truncate_all, make_settings
from tests.factories import bearer
from tests.owner_helpers import Inbox, login, make_device, pair, smtp_port, start_smtp

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


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated, empty database per backend for the whole module."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("matrix") / "chargeline.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    engine: Engine = request.getfixturevalue("postgres_engine")
    _truncate_all(engine)
    yield PG_URL or ""
    _truncate_all(engine)


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[int, Inbox]]:
    controller, inbox = start_smtp()
    yield smtp_port(controller), inbox
    controller.stop()


@pytest.fixture(scope="module")
def inbox(smtp: tuple[int, Inbox]) -> Inbox:
    return smtp[1]


@pytest.fixture(scope="module")
def settings(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, smtp: tuple[int, Inbox]
) -> Settings:
    return make_settings(
        tmp_path_factory.mktemp("var"), database_url, smtp_host="127.0.0.1", smtp_port=smtp[0]
    )


@pytest.fixture(scope="module")
def platform(settings: Settings) -> Iterator[Platform]:
    platform = build_platform(settings)
    platform.ca.initialize(now=utcnow())
    yield platform
    platform.close()


@pytest.fixture(scope="module")
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform=platform)) as test_client:
        yield test_client


def snapshot(platform: Platform) -> dict[str, Any]:
    """What an outsider could change: members, invitations, cards, devices, certificates."""
    with Session(platform.engine) as session:
        return {
            "memberships": sorted(
                (m.station_serial, m.user_id, m.role) for m in session.exec(select(Membership))
            ),
            "invitations": sorted(
                (i.token_hash, i.used_at, i.used_by, i.revoked_at)
                for i in session.exec(select(InvitationRow))
            ),
            "grants": sorted(
                (g.id_token, g.station_serial) for g in session.exec(select(CardGrant))
            ),
            "cards": sorted((t.value, t.status) for t in session.exec(select(IdTokenRow))),
            "devices": sorted((d.serial, d.state) for d in session.exec(select(DeviceRow))),
            "failures": sorted(
                (f.key, f.failures)
                for f in session.exec(select(LoginFailure))
                if f.key.startswith("pairing:")
            ),
            "certificates": sorted(
                (c.serial_hex, c.status) for c in session.exec(select(IssuedCertificateRow))
            ),
        }


@pytest.fixture
def unchanged(platform: Platform, world: dict[str, dict[str, str]]) -> Iterator[None]:
    """Fails the case if its request changed the shared scenario."""
    before = snapshot(platform)
    yield
    assert snapshot(platform) == before


@pytest.fixture(scope="module")
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
@pytest.mark.usefixtures("unchanged")
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
