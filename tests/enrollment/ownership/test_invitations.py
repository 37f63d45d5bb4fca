"""Bad invitation links and addresses: each refused with its exact problem, nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.platform import Platform
from enrollment.ownership.tables import InvitationRow, Membership
from tests.owner_helpers import Inbox, login, make_device, pair

SERIAL = "SN-INV-0001"
GUEST = "guest@example.com"
ACCEPT = "/api/v1/app/invitations/accept"


@pytest.fixture
def owner(client: TestClient, platform: Platform) -> dict[str, str]:
    headers = login(platform, client, "owner@example.com")
    pair(client, headers, make_device(platform, SERIAL))
    return headers


def invite(client: TestClient, owner: dict[str, str], inbox: Inbox, address: str = GUEST) -> str:
    response = client.post(
        f"/api/v1/app/stations/{SERIAL}/invitations",
        json={"email": address, "role": "guest"},
        headers=owner,
    )
    assert response.status_code == 201, response.text
    return inbox.token(response.json()["email"], "/app/invitations/accept")


def memberships(platform: Platform) -> list[tuple[str, str, str]]:
    with Session(platform.engine) as session:
        rows = session.exec(select(Membership).order_by(Membership.id)).all()  # type: ignore[arg-type]
        return [(m.station_serial, m.user_id, m.role) for m in rows]


def invitation(platform: Platform) -> InvitationRow:
    with Session(platform.engine) as session:
        return session.exec(select(InvitationRow)).one()


def test_an_expired_invitation_is_gone_and_adds_no_member(
    client: TestClient, platform: Platform, inbox: Inbox, owner: dict[str, str]
) -> None:
    token = invite(client, owner, inbox)
    with Session(platform.engine) as session:
        row = session.exec(select(InvitationRow)).one()
        row.expires_at = row.created_at - timedelta(seconds=1)
        session.add(row)
        session.commit()
    before = memberships(platform)
    response = client.post(ACCEPT, json={"token": token}, headers=login(platform, client, GUEST))
    assert response.status_code == 410, response.text
    assert response.json()["type"].endswith("/invitation-expired")
    assert response.json()["detail"] == "invitation link is expired"
    assert memberships(platform) == before
    assert invitation(platform).used_at is None


def test_a_used_invitation_cannot_bring_a_removed_guest_back(
    client: TestClient, platform: Platform, inbox: Inbox, owner: dict[str, str]
) -> None:
    token = invite(client, owner, inbox)
    guest = login(platform, client, GUEST)
    assert client.post(ACCEPT, json={"token": token}, headers=guest).status_code == 200
    guest_id = client.get("/api/v1/app/me", headers=guest).json()["id"]
    removed = client.delete(f"/api/v1/app/stations/{SERIAL}/members/{guest_id}", headers=owner)
    assert removed.status_code == 204
    before = memberships(platform)
    response = client.post(ACCEPT, json={"token": token}, headers=guest)
    assert response.status_code == 410, response.text
    assert response.json()["type"].endswith("/invitation-used")
    assert memberships(platform) == before
    assert all(user_id != guest_id for _, user_id, _ in before)


def test_an_invitation_revoked_by_giving_the_station_up_adds_no_member(
    client: TestClient, platform: Platform, inbox: Inbox, owner: dict[str, str]
) -> None:
    token = invite(client, owner, inbox)
    given_up = client.delete(f"/api/v1/app/stations/{SERIAL}/ownership", headers=owner)
    assert given_up.status_code == 204
    assert invitation(platform).revoked_at is not None
    response = client.post(ACCEPT, json={"token": token}, headers=login(platform, client, GUEST))
    assert response.status_code == 410, response.text
    assert response.json()["type"].endswith("/invitation-revoked")
    assert memberships(platform) == []
    assert invitation(platform).used_at is None


@pytest.mark.parametrize(
    "token",
    [
        "A" * 43,  # well-formed, never issued
        "../../etc/passwd",  # outside the token alphabet
        "x" * 200,  # longer than any token
        "' OR 1=1 --",
        "\u00e9t\u00e9",
    ],
)
def test_a_forged_invitation_token_is_unknown_and_adds_no_member(
    client: TestClient, platform: Platform, inbox: Inbox, owner: dict[str, str], token: str
) -> None:
    invite(client, owner, inbox)
    before = memberships(platform)
    response = client.post(ACCEPT, json={"token": token}, headers=login(platform, client, GUEST))
    assert response.status_code == 404, response.text
    assert response.json()["type"].endswith("/invitation-unknown")
    assert response.json()["detail"] == "unknown invitation"
    assert memberships(platform) == before
    assert invitation(platform).used_at is None


def test_an_invitation_token_longer_than_the_body_allows_fails_validation(
    client: TestClient, platform: Platform
) -> None:
    headers = login(platform, client, GUEST)
    response = client.post(ACCEPT, json={"token": "A" * 257}, headers=headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["token"]


def test_an_invitation_forwarded_to_another_address_is_refused_and_stays_usable(
    client: TestClient, platform: Platform, inbox: Inbox, owner: dict[str, str]
) -> None:
    token = invite(client, owner, inbox)
    before = memberships(platform)
    forwarded = client.post(
        ACCEPT, json={"token": token}, headers=login(platform, client, "friend@example.com")
    )
    assert forwarded.status_code == 403, forwarded.text
    assert forwarded.json()["type"].endswith("/forbidden")
    assert forwarded.json()["detail"] == "this invitation was sent to another e-mail address"
    assert memberships(platform) == before
    assert invitation(platform).used_at is None
    accepted = client.post(ACCEPT, json={"token": token}, headers=login(platform, client, GUEST))
    assert accepted.status_code == 200 and accepted.json()["role"] == "guest"


def test_the_invited_address_matches_whatever_its_case(
    client: TestClient, platform: Platform, inbox: Inbox, owner: dict[str, str]
) -> None:
    token = invite(client, owner, inbox, "Guest@Example.COM")
    response = client.post(ACCEPT, json={"token": token}, headers=login(platform, client, GUEST))
    assert response.status_code == 200, response.text
