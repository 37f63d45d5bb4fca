"""Malformed e-mail addresses at sign-up, invitation and password reset: 422 naming ``email``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.identity.tables import EmailToken, User
from app.platform import Platform
from enrollment.ownership.tables import InvitationRow
from tests.owner_helpers import Inbox, login, make_device, pair

PASSWORD = "a long enough password"
MALFORMED = [
    "not-an-address",
    "ab@",
    "@example.com",
    "a b@example.com",
    "x@-bad-.com",
    "two@@example.com",
    "dots..twice@example.com",
    "trailing.@example.com",
    "x@example",
    "x@exa_mple.com",
    "<script>@example.com",
    "x@example.com\nBcc: victim@example.com",
]


def rows(platform: Platform) -> tuple[int, int, int]:
    with Session(platform.engine) as session:
        return (
            session.exec(select(func.count()).select_from(User)).one(),
            session.exec(select(func.count()).select_from(EmailToken)).one(),
            session.exec(select(func.count()).select_from(InvitationRow)).one(),
        )


def assert_names_the_email_field(response_json: dict[str, object]) -> None:
    assert response_json["status"] == 422
    assert str(response_json["type"]).endswith("/invalid-email")
    assert str(response_json["detail"]).startswith("email: not a valid e-mail address")
    errors = response_json["errors"]
    assert isinstance(errors, list) and [e["field"] for e in errors] == ["email"]


@pytest.mark.parametrize("address", MALFORMED)
def test_a_malformed_address_is_refused_at_signup_naming_the_field(
    client: TestClient, platform: Platform, inbox: Inbox, address: str
) -> None:
    response = client.post("/api/v1/app/signup", json={"email": address, "password": PASSWORD})
    assert response.status_code == 422, response.text
    assert_names_the_email_field(response.json())
    assert rows(platform) == (0, 0, 0)
    assert inbox.messages == []


@pytest.mark.parametrize("address", MALFORMED)
def test_a_malformed_address_is_refused_at_password_reset_naming_the_field(
    client: TestClient, platform: Platform, address: str
) -> None:
    response = client.post("/api/v1/app/password-reset", json={"email": address})
    assert response.status_code == 422, response.text
    assert_names_the_email_field(response.json())
    assert rows(platform) == (0, 0, 0)


def test_a_malformed_address_is_refused_at_invitation_naming_the_field(
    client: TestClient, platform: Platform, inbox: Inbox
) -> None:
    owner = login(platform, client, "owner@example.com")
    pair(client, owner, make_device(platform, "SN-MAIL-0001"))
    before = rows(platform)
    for address in MALFORMED:
        response = client.post(
            "/api/v1/app/stations/SN-MAIL-0001/invitations",
            json={"email": address, "role": "guest"},
            headers=owner,
        )
        assert response.status_code == 422, (address, response.text)
        assert_names_the_email_field(response.json())
    assert rows(platform) == before
    assert inbox.messages == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/app/signup", {"password": PASSWORD}),
        ("/api/v1/app/signup", {"email": "x" * 255 + "@example.com", "password": PASSWORD}),
        ("/api/v1/app/password-reset", {"email": 42}),
        ("/api/v1/app/password-reset", {"email": "a@"[:1]}),
    ],
)
def test_a_missing_or_mistyped_address_fails_validation_on_the_email_field(
    client: TestClient, path: str, body: dict[str, object]
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/validation-error")
    assert [e["field"] for e in response.json()["errors"]] == ["email"]
