"""Sign-up, e-mail verification and password reset, with mail read from a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.identity.tables import EmailToken, User
from app.platform import Platform
from tests.factories import bearer
from tests.owner_helpers import Inbox, make_device

PASSWORD = "a long enough password"


def sign_up(client: TestClient, address: str, password: str = PASSWORD) -> None:
    response = client.post("/api/v1/app/signup", json={"email": address, "password": password})
    assert response.status_code == 202, response.text


def token_login(client: TestClient, address: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post(
        "/oauth/token", data={"grant_type": "password", "username": address, "password": password}
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def test_a_new_owner_signs_up_verifies_by_mail_and_may_then_pair(
    client: TestClient, platform: Platform, inbox: Inbox
) -> None:
    sign_up(client, "Ann@Example.com")
    with Session(platform.engine) as session:
        user = session.exec(select(User).where(User.email == "ann@example.com")).one()
    assert user.roles == "owner" and not user.email_verified
    headers = bearer(token_login(client, "ann@example.com")["access_token"])
    labels = make_device(platform, "SN-ACC-0001")
    body = {"device_label": labels.device, "packaging_label": labels.packaging}
    refused = client.post("/api/v1/app/pairings", json=body, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/email-not-verified")
    token = inbox.token("ann@example.com", "/app/verify-email")
    verified = client.post("/api/v1/app/verify-email", json={"token": token})
    assert verified.json() == {"email": "ann@example.com", "email_verified": True}
    again = client.post("/api/v1/app/verify-email", json={"token": token})
    assert again.status_code == 410 and again.json()["type"].endswith("/verification-used")
    assert client.post("/api/v1/app/pairings", json=body, headers=headers).status_code == 201


def test_signing_up_with_a_taken_address_answers_the_same_and_mails_a_notice(
    client: TestClient, inbox: Inbox
) -> None:
    sign_up(client, "bob@example.com")
    first = client.post(
        "/api/v1/app/signup", json={"email": "bob@example.com", "password": PASSWORD}
    )
    assert first.status_code == 202
    mails = inbox.to("bob@example.com")
    while len(mails) < 2:
        mails = inbox.to("bob@example.com")
    assert mails[-1]["Subject"] == "Your Chargeline account"


@pytest.mark.parametrize(
    "address", ["not-an-address", "ab@", "@example.com", "a b@example.com", "x@-bad-.com"]
)
def test_malformed_addresses_are_refused_on_signup_and_reset(
    client: TestClient, address: str
) -> None:
    for path in ("/api/v1/app/signup", "/api/v1/app/password-reset"):
        body = {"email": address, "password": PASSWORD}
        if path.endswith("reset"):
            body.pop("password")
        response = client.post(path, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["type"].endswith("/invalid-email")


def test_a_short_password_is_refused_at_signup(client: TestClient) -> None:
    response = client.post("/api/v1/app/signup", json={"email": "c@example.com", "password": "x"})
    assert response.status_code == 422 and "password must be" in response.json()["detail"]


def test_forged_and_expired_verification_tokens_are_refused(
    client: TestClient, platform: Platform, inbox: Inbox
) -> None:
    forged = client.post("/api/v1/app/verify-email", json={"token": "A" * 43})
    assert forged.status_code == 404 and forged.json()["type"].endswith("/verification-unknown")
    sign_up(client, "dan@example.com")
    token = inbox.token("dan@example.com", "/app/verify-email")
    with Session(platform.engine) as session:
        row = session.exec(select(EmailToken)).one()
        row.expires_at = row.created_at - timedelta(seconds=1)
        session.add(row)
        session.commit()
    expired = client.post("/api/v1/app/verify-email", json={"token": token})
    assert expired.status_code == 410 and expired.json()["type"].endswith("/verification-expired")


def test_a_password_reset_answers_the_same_for_unknown_addresses(
    client: TestClient, inbox: Inbox
) -> None:
    sign_up(client, "eve@example.com")
    known = client.post("/api/v1/app/password-reset", json={"email": "eve@example.com"})
    unknown = client.post("/api/v1/app/password-reset", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert inbox.to("nobody@example.com", wait=0.3) == []


def test_a_password_reset_sets_the_password_and_revokes_refresh_tokens(
    client: TestClient, inbox: Inbox
) -> None:
    sign_up(client, "fay@example.com")
    refresh = token_login(client, "fay@example.com")["refresh_token"]
    client.post("/api/v1/app/password-reset", json={"email": "fay@example.com"})
    token = inbox.token("fay@example.com", "/app/reset-password")
    weak = client.post(
        "/api/v1/app/password-reset/confirm", json={"token": token, "password": "short"}
    )
    assert weak.status_code == 422
    done = client.post(
        "/api/v1/app/password-reset/confirm",
        json={"token": token, "password": "a brand new password"},
    )
    assert done.status_code == 204
    reused = client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert reused.status_code == 400 and "revoked" in reused.json()["detail"]
    token_login(client, "fay@example.com", "a brand new password")
    spent = client.post(
        "/api/v1/app/password-reset/confirm",
        json={"token": token, "password": "another new password"},
    )
    assert spent.status_code == 410
