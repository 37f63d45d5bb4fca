"""The audit log records security-relevant actions and admins read it over the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.platform import Platform
from tests.factories import admin_headers, bearer, make_user, password_tokens
from tests.problems import assert_problem


def test_admins_read_the_audit_log_newest_first_with_filters(
    platform: Platform, client: TestClient
) -> None:
    headers = admin_headers(platform, client)
    client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "admin@example.com", "password": "nope-nope"},
        headers={"X-Forwarded-For": "10.9.9.9"},
    )
    page = client.get("/api/v1/audit", headers=headers).json()
    actions = [e["action"] for e in page["items"]]
    assert actions[:3] == ["login.failure", "login.success", "user.create"]
    failure = page["items"][0]
    assert failure["outcome"] == "failure" and failure["source"] == "testclient"
    only = client.get("/api/v1/audit", params={"action": "user.create"}, headers=headers).json()
    assert only["total"] == 1 and only["items"][0]["detail"]["email"] == "admin@example.com"


def test_the_audit_log_paginates_with_links(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    for n in range(3):
        make_user(platform, f"u{n}@example.com")
    first = client.get("/api/v1/audit", params={"limit": 2}, headers=headers).json()
    assert len(first["items"]) == 2 and first["total"] >= 5
    assert "offset=2" in first["_links"]["next"]["href"]
    assert_problem(
        client.get("/api/v1/audit", params={"limit": 0}, headers=headers), 422, "validation-error"
    )


def test_owners_cannot_read_the_audit_log(platform: Platform, client: TestClient) -> None:
    make_user(platform, "owner@example.com")
    token = password_tokens(client, "owner@example.com")["access_token"]
    assert_problem(client.get("/api/v1/audit", headers=bearer(token)), 403, "forbidden")
