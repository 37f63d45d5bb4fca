"""Problem details for bad requests, and bearer-token checks (401 versus 403)."""

from __future__ import annotations

from datetime import timedelta

import jwt
from fastapi.testclient import TestClient

from app.platform import Platform
from common.clock import utcnow
from tests.conftest import TEST_SECRET
from tests.factories import admin_headers, bearer, make_user, password_tokens
from tests.problems import assert_problem


def _claims(**overrides: object) -> dict[str, object]:
    now = utcnow()
    claims: dict[str, object] = {
        "iss": "chargeline",
        "aud": "chargeline",
        "sub": "someone",
        "kind": "user",
        "roles": ["admin"],
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(overrides)
    return claims


def test_health_and_readiness_answer(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["database"] in {"sqlite", "postgresql"}


def test_the_openapi_document_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/oauth/token" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_an_unknown_path_is_a_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found")


def test_no_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_valid_token_without_the_role_is_403(platform: Platform, client: TestClient) -> None:
    make_user(platform, "owner@example.com")
    token = password_tokens(client, "owner@example.com")["access_token"]
    assert_problem(client.get("/api/v1/users", headers=bearer(token)), 403, "forbidden")


def test_an_expired_token_is_401(client: TestClient) -> None:
    past = utcnow() - timedelta(hours=1)
    token = jwt.encode(_claims(exp=int(past.timestamp())), TEST_SECRET, algorithm="HS256")
    body = assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")
    assert body["detail"] == "token expired"


def test_a_forged_token_is_401(client: TestClient) -> None:
    token = jwt.encode(_claims(), "another-secret-of-sufficient-length!!", algorithm="HS256")
    assert_problem(client.get("/api/v1/users", headers=bearer(token)), 401, "unauthorized")


def test_an_alg_none_token_is_401(client: TestClient) -> None:
    token = jwt.encode(_claims(), key=None, algorithm="none")
    assert_problem(client.get("/api/v1/users", headers=bearer(token)), 401, "unauthorized")


def test_a_token_for_another_audience_is_401(client: TestClient) -> None:
    token = jwt.encode(_claims(aud="someone-else"), TEST_SECRET, algorithm="HS256")
    body = assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")
    assert "audience" in str(body["detail"])


def test_a_garbage_token_is_401(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/me", headers=bearer("not.a.jwt")), 401, "unauthorized")


def test_malformed_json_is_a_validation_problem(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    response = client.post(
        "/api/v1/users",
        content=b'{"email": ',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 422, "validation-error")


def test_a_body_that_is_not_json_is_415(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    response = client.post(
        "/api/v1/users", content=b"email=x", headers={**headers, "Content-Type": "text/plain"}
    )
    assert_problem(response, 415, "unsupported-media-type")


def test_an_oversized_body_is_413(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    big = b'{"email": "' + b"a" * 2_000_000 + b'"}'
    response = client.post(
        "/api/v1/users", content=big, headers={**headers, "Content-Type": "application/json"}
    )
    assert_problem(response, 413, "payload-too-large")


def test_an_oversized_chunked_body_is_413(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)

    def chunks() -> object:
        for _ in range(40):
            yield b"x" * 65536

    response = client.post(
        "/api/v1/users",
        content=chunks(),  # type: ignore[arg-type]
        headers={**headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


def test_validation_errors_name_the_field(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    response = client.post(
        "/api/v1/users",
        headers=headers,
        json={"email": "not-an-address", "password": "long-enough-password", "roles": ["owner"]},
    )
    body = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["email"]  # type: ignore[union-attr]


def test_unknown_fields_are_refused_by_name(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    response = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "email": "x@example.com",
            "password": "long-enough-password",
            "roles": ["owner"],
            "is_superuser": True,
        },
    )
    body = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["is_superuser"]  # type: ignore[union-attr]


def test_an_unknown_role_is_refused_and_nothing_is_created(
    platform: Platform, client: TestClient
) -> None:
    headers = admin_headers(platform, client)
    response = client.post(
        "/api/v1/users",
        headers=headers,
        json={"email": "x@example.com", "password": "long-enough-password", "roles": ["root"]},
    )
    assert_problem(response, 422, "account-refused")
    users = client.get("/api/v1/users", headers=headers).json()
    assert [u["email"] for u in users["items"]] == ["admin@example.com"]


def test_a_duplicate_email_is_409(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    body = {"email": "admin@example.com", "password": "long-enough-password", "roles": ["owner"]}
    assert_problem(client.post("/api/v1/users", headers=headers, json=body), 409, "account-refused")


def test_an_admin_disables_a_user_who_then_cannot_log_in(
    platform: Platform, client: TestClient
) -> None:
    headers = admin_headers(platform, client)
    user = make_user(platform, "owner@example.com")
    response = client.patch(f"/api/v1/users/{user.id}", headers=headers, json={"disabled": True})
    assert response.status_code == 200 and response.json()["disabled"] is True
    assert response.json()["_links"]["self"]["href"] == f"/api/v1/users/{user.id}"
    login = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "username": "owner@example.com",
            "password": "correct horse battery staple",
        },
    )
    assert_problem(login, 400, "oauth-invalid-grant")
