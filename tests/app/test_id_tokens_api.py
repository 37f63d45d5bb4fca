"""The id tokens API: create, read, block, delete, audit, and refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit import AuditEntry
from app.platform import Platform
from charging import events as ev
from charging.outcomes import AuthorizationStatus
from charging.service import ChargingCore
from tests.charging.conftest import FAST_PASSWORDS, PASSWORD, T0
from tests.factories import admin_headers, bearer, make_user, password_tokens
from tests.problems import assert_problem


def audit_actions(platform: Platform) -> list[str]:
    with Session(platform.engine) as session:
        return [e.action for e in session.exec(select(AuditEntry)).all()]


def test_an_admin_creates_reads_blocks_and_deletes_a_token(
    platform: Platform, client: TestClient
) -> None:
    headers = admin_headers(platform, client)
    body = {
        "value": "04A1B2C3",
        "type": "ISO14443",
        "expires_at": "2030-01-01T00:00:00Z",
        "group": "FLEET-1",
    }
    created = client.post("/api/v1/id-tokens", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "Accepted"
    assert created.json()["_links"]["self"]["href"] == "/api/v1/id-tokens/04A1B2C3"
    core = ChargingCore(platform.engine, passwords=FAST_PASSWORDS)
    core.add_station("CP-1", PASSWORD, now=T0)
    authorize = ev.AuthorizationRequested("CP-1", ev.IdToken("04A1B2C3"))
    assert core.handle(authorize, now=T0).status is AuthorizationStatus.ACCEPTED  # type: ignore[union-attr]

    blocked = client.patch(
        "/api/v1/id-tokens/04A1B2C3", json={"status": "Blocked"}, headers=headers
    )
    assert blocked.status_code == 200 and blocked.json()["status"] == "Blocked"
    assert blocked.json()["group"] == "FLEET-1"
    assert core.handle(authorize, now=T0).status is AuthorizationStatus.BLOCKED  # type: ignore[union-attr]

    listed = client.get("/api/v1/id-tokens?status=Blocked", headers=headers).json()
    assert [t["value"] for t in listed["items"]] == ["04A1B2C3"]
    assert client.get("/api/v1/id-tokens/04A1B2C3", headers=headers).status_code == 200
    assert client.delete("/api/v1/id-tokens/04A1B2C3", headers=headers).status_code == 204
    gone = client.get("/api/v1/id-tokens/04A1B2C3", headers=headers)
    assert assert_problem(gone, 404, "not-found")["detail"] == "id token not found"
    assert core.handle(authorize, now=T0).status is AuthorizationStatus.INVALID  # type: ignore[union-attr]
    actions = audit_actions(platform)
    assert {"id_token.create", "id_token.block", "id_token.delete"} <= set(actions)


def test_a_duplicate_token_is_409(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    assert (
        client.post("/api/v1/id-tokens", json={"value": "T1"}, headers=headers).status_code == 201
    )
    again = client.post("/api/v1/id-tokens", json={"value": "T1"}, headers=headers)
    assert assert_problem(again, 409, "id-token-exists")["detail"] == "id token 'T1' already exists"


def test_malformed_tokens_are_422_naming_the_field(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    for body, field in [
        ({"value": ""}, "value"),
        ({"value": "x" * 37}, "value"),
        ({"value": "has space"}, "value"),
        ({"value": "T1", "status": "Maybe"}, "status"),
        ({"value": "T1", "type": "Barcode"}, "type"),
        ({"value": "T1", "expires_at": "soon"}, "expires_at"),
        ({"value": "T1", "owner": "x"}, "owner"),
    ]:
        response = client.post("/api/v1/id-tokens", json=body, headers=headers)
        problem = assert_problem(response, 422, "validation-error")
        assert problem["detail"] == f"invalid request: {field}", body
    client.post("/api/v1/id-tokens", json={"value": "T1"}, headers=headers)
    null_status = client.patch("/api/v1/id-tokens/T1", json={"status": None}, headers=headers)
    assert assert_problem(null_status, 422, "validation-error")["detail"] == (
        "invalid request: status"
    )
    assert_problem(
        client.get("/api/v1/id-tokens?status=Nope", headers=headers), 422, "validation-error"
    )


def test_unknown_tokens_are_404(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    patch = client.patch("/api/v1/id-tokens/NOPE", json={"status": "Blocked"}, headers=headers)
    assert_problem(patch, 404, "not-found")
    assert_problem(client.delete("/api/v1/id-tokens/NOPE", headers=headers), 404, "not-found")


def test_id_tokens_are_for_admins_only(platform: Platform, client: TestClient) -> None:
    make_user(platform, "owner@example.com", "owner")
    owner = bearer(password_tokens(client, "owner@example.com")["access_token"])
    assert_problem(client.get("/api/v1/id-tokens", headers=owner), 403, "forbidden")
    create = client.post("/api/v1/id-tokens", json={"value": "T1"}, headers=owner)
    assert_problem(create, 403, "forbidden")
    assert_problem(client.delete("/api/v1/id-tokens/T1", headers=owner), 403, "forbidden")
