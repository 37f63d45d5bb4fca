"""The token endpoint: grants, rotation, and every refusal as problem+json."""

from __future__ import annotations

import base64
from datetime import timedelta

import httpx
import jwt
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit import AuditEntry
from app.identity.tables import RefreshToken
from app.platform import Platform
from common.clock import utcnow
from tests.e2e.http import TIMEOUT
from tests.factories import PASSWORD, bearer, make_client, make_user, password_tokens
from tests.live import LiveServer
from tests.problems import assert_problem


def test_a_client_gets_a_token_with_its_credentials_in_basic_auth(
    platform: Platform, client: TestClient
) -> None:
    issued = make_client(platform, "manufacturing")
    basic = base64.b64encode(f"{issued.client_id}:{issued.client_secret}".encode()).decode()
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "manufacturing"
    assert "refresh_token" not in body
    me = client.get("/api/v1/me", headers=bearer(body["access_token"])).json()
    assert me == {"subject": issued.client_id, "kind": "client", "roles": ["manufacturing"]}


def test_a_client_may_post_its_credentials_in_the_form(
    platform: Platform, client: TestClient
) -> None:
    issued = make_client(platform, "admin")
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued.client_id,
            "client_secret": issued.client_secret,
        },
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "admin"


def test_a_wrong_client_secret_is_401_invalid_client(
    platform: Platform, client: TestClient
) -> None:
    issued = make_client(platform)
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued.client_id,
            "client_secret": "not-the-secret",
        },
    )
    body = assert_problem(response, 401, "oauth-invalid-client")
    assert body["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers


def test_client_credentials_without_credentials_are_refused(client: TestClient) -> None:
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert_problem(response, 401, "oauth-invalid-client")


def test_malformed_basic_credentials_are_refused(client: TestClient) -> None:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic !!!not-base64"},
    )
    assert_problem(response, 401, "oauth-invalid-client")


def test_an_unknown_grant_type_is_unsupported_grant_type(client: TestClient) -> None:
    response = client.post("/oauth/token", data={"grant_type": "implicit"})
    body = assert_problem(response, 400, "oauth-unsupported-grant-type")
    assert body["error"] == "unsupported_grant_type"


def test_the_token_endpoint_refuses_json_bodies(client: TestClient) -> None:
    response = client.post("/oauth/token", json={"grant_type": "password"})
    assert_problem(response, 415, "unsupported-media-type")


def test_password_login_returns_access_and_refresh_tokens(
    platform: Platform, client: TestClient
) -> None:
    user = make_user(platform, "Owner@Example.com")
    body = password_tokens(client, "owner@example.com")
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == user.id and claims["roles"] == ["owner"]
    assert claims["aud"] == "chargeline"
    assert body["refresh_token"]


def test_a_wrong_password_is_invalid_grant_and_audited(
    platform: Platform, client: TestClient
) -> None:
    make_user(platform, "owner@example.com")
    response = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "owner@example.com", "password": "wrong-pass"},
    )
    assert_problem(response, 400, "oauth-invalid-grant")
    with Session(platform.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry)).all()]
    assert "login.failure" in actions


def test_missing_username_is_invalid_request(client: TestClient) -> None:
    response = client.post("/oauth/token", data={"grant_type": "password", "password": "x"})
    assert_problem(response, 400, "oauth-invalid-request")


def test_a_disabled_user_cannot_log_in(platform: Platform, client: TestClient) -> None:
    make_user(platform, "gone@example.com", disabled=True)
    response = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "gone@example.com", "password": PASSWORD},
    )
    body = assert_problem(response, 400, "oauth-invalid-grant")
    assert body["detail"] == "this account is disabled"


def test_repeated_failed_logins_are_rate_limited(platform: Platform, client: TestClient) -> None:
    make_user(platform, "owner@example.com")
    form = {"grant_type": "password", "username": "owner@example.com", "password": "wrong-pass"}
    statuses = [client.post("/oauth/token", data=form).status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
    right = {**form, "password": PASSWORD}
    locked = client.post("/oauth/token", data=right)
    assert_problem(locked, 429, "too-many-attempts")
    assert int(locked.headers["Retry-After"]) > 0


def test_a_refresh_token_rotates(platform: Platform, client: TestClient) -> None:
    make_user(platform)
    first = password_tokens(client, "owner@example.com")
    response = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    again = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
    )
    assert again.status_code == 200


def test_a_refresh_token_used_twice_revokes_its_whole_family(
    platform: Platform, client: TestClient
) -> None:
    make_user(platform)
    first = password_tokens(client, "owner@example.com")
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    successor = client.post("/oauth/token", data=refresh).json()["refresh_token"]
    reuse = client.post("/oauth/token", data=refresh)
    body = assert_problem(reuse, 400, "oauth-invalid-grant")
    assert "already used" in str(body["detail"])
    after = client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": successor}
    )
    assert_problem(after, 400, "oauth-invalid-grant")
    with Session(platform.engine) as session:
        rows = session.exec(select(RefreshToken)).all()
        assert rows and all(r.revoked_at is not None for r in rows)
        assert session.exec(
            select(AuditEntry).where(AuditEntry.action == "refresh_token.reuse")
        ).first()


def test_an_expired_refresh_token_is_refused(platform: Platform, client: TestClient) -> None:
    make_user(platform)
    first = password_tokens(client, "owner@example.com")
    with Session(platform.engine) as session:
        for row in session.exec(select(RefreshToken)).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
            session.add(row)
        session.commit()
    response = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    body = assert_problem(response, 400, "oauth-invalid-grant")
    assert body["detail"] == "refresh token expired"


def test_an_unknown_refresh_token_is_refused(client: TestClient) -> None:
    response = client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "made-up"}
    )
    assert_problem(response, 400, "oauth-invalid-grant")


def test_the_whole_token_flow_works_over_real_http(
    platform: Platform, live_server: LiveServer
) -> None:
    make_user(platform, "admin@example.com", "admin")
    issued = make_client(platform, "manufacturing")
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT) as http:
        login = http.post(
            "/oauth/token",
            data={"grant_type": "password", "username": "admin@example.com", "password": PASSWORD},
        )
        assert login.status_code == 200
        tokens = login.json()
        assert http.get("/api/v1/users", headers=bearer(tokens["access_token"])).status_code == 200
        rotated = http.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert rotated.status_code == 200
        machine = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(issued.client_id, issued.client_secret),
        )
        assert machine.status_code == 200
        forbidden = http.get("/api/v1/users", headers=bearer(machine.json()["access_token"]))
        assert_problem(forbidden, 403, "forbidden")


def test_a_refresh_token_spent_concurrently_succeeds_exactly_once(
    platform: Platform, live_server: LiveServer
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    make_user(platform)
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT) as http:
        tokens = http.post(
            "/oauth/token",
            data={"grant_type": "password", "username": "owner@example.com", "password": PASSWORD},
        ).json()

    def spend(_: int) -> int:
        with httpx.Client(base_url=live_server.url, timeout=60) as http:
            return http.post(
                "/oauth/token",
                data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            ).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(spend, range(8)))
    assert statuses == [200] + [400] * 7
