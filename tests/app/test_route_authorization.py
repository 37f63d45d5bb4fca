"""Who may call what, generated from the app's own routes.

Every HTTP operation of the OpenAPI document (and every WebSocket route) must have a rule in
``RULES``: an endpoint added without one fails :func:`test_every_route_has_a_rule`. Each rule is
then checked against real callers: no token and an expired token get 401 everywhere but the
public endpoints, and each caller either passes the role check or is refused with 403. Whether
an allowed caller may touch a particular station is the job of the per-object matrix in
``tests/enrollment/ownership/test_authorization_matrix.py``.
"""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute
from fastapi.testclient import TestClient
from httpx import Response

from app.identity.jwt_tokens import Principal
from app.platform import Platform
from common.clock import utcnow
from tests.factories import bearer, make_client, make_user, password_tokens

PUBLIC = frozenset({"anonymous", "admin", "manufacturing", "owner"})
ANY = frozenset({"admin", "manufacturing", "owner"})
ADMIN = frozenset({"admin"})
LINE = frozenset({"admin", "manufacturing"})
APP_USER = frozenset({"admin", "owner"})  # the app API is for users, not OAuth2 clients

RULES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/api/v1"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("POST", "/oauth/token"): PUBLIC,
    ("GET", "/api/v1/me"): ANY,
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/unlock"): ADMIN,
    ("POST", "/api/v1/stations/{station_id}/unlock-credentials"): ADMIN,
    ("PATCH", "/api/v1/users/{user_id}"): ADMIN,
    ("GET", "/api/v1/audit"): ADMIN,
    **{
        ("POST", f"/api/v1/stations/{{station_id}}/commands/{name}"): ADMIN
        for name in (
            "start",
            "stop",
            "reset",
            "unlock",
            "availability",
            "get-configuration",
            "configure",
            "trigger",
            "data-transfer",
        )
    },
    ("POST", "/api/v1/stations"): ADMIN,
    ("GET", "/api/v1/stations"): ADMIN,
    ("GET", "/api/v1/stations/{station_id}"): ADMIN,
    ("POST", "/api/v1/stations/{station_id}/approve"): ADMIN,
    ("GET", "/api/v1/security-events"): ADMIN,
    ("GET", "/api/v1/transactions"): ADMIN,
    ("GET", "/api/v1/transactions/{transaction_id}"): ADMIN,
    ("GET", "/api/v1/id-tokens"): ADMIN,
    ("POST", "/api/v1/id-tokens"): ADMIN,
    ("GET", "/api/v1/id-tokens/{value}"): ADMIN,
    ("PATCH", "/api/v1/id-tokens/{value}"): ADMIN,
    ("DELETE", "/api/v1/id-tokens/{value}"): ADMIN,
    ("GET", "/api/v1/families"): ADMIN,
    ("POST", "/api/v1/rollouts"): ADMIN,
    ("GET", "/api/v1/rollouts"): ADMIN,
    ("POST", "/api/v1/rollouts/preview"): ADMIN,
    ("POST", "/api/v1/rollouts/keep-current"): ADMIN,
    ("GET", "/api/v1/rollouts/{rollout_id}"): ADMIN,
    ("GET", "/api/v1/rollouts/{rollout_id}/targets"): ADMIN,
    ("POST", "/api/v1/rollouts/{rollout_id}/rollback"): ADMIN,
    ("POST", "/api/v1/rollouts/{rollout_id}/{action}"): ADMIN,
    ("POST", "/api/v1/families"): ADMIN,
    ("GET", "/api/v1/families/{name}"): ADMIN,
    ("PATCH", "/api/v1/families/{name}"): ADMIN,
    ("DELETE", "/api/v1/families/{name}"): ADMIN,
    ("GET", "/api/v1/families/{name}/channels"): ADMIN,
    ("POST", "/api/v1/families/{name}/channels"): ADMIN,
    ("PUT", "/api/v1/families/{name}/channels/{channel}"): ADMIN,
    ("PUT", "/api/v1/families/{name}/signing"): ADMIN,
    ("POST", "/api/v1/firmware/images"): ADMIN,
    ("GET", "/api/v1/firmware/images"): ADMIN,
    ("GET", "/api/v1/firmware/images/{image_id}"): ADMIN,
    ("DELETE", "/api/v1/firmware/images/{image_id}"): ADMIN,
    ("POST", "/api/v1/firmware/images/{image_id}/verify"): ADMIN,
    ("POST", "/api/v1/firmware/images/{image_id}/promote"): ADMIN,
    ("PUT", "/api/v1/stations/{station_id}/channel"): ADMIN,
    ("GET", "/api/v1/mac-ranges"): ADMIN,
    ("POST", "/api/v1/mac-ranges"): ADMIN,
    ("POST", "/api/v1/devices/import"): LINE,
    ("POST", "/api/v1/devices"): LINE,
    ("GET", "/api/v1/devices"): LINE,
    ("GET", "/api/v1/devices/{serial}"): LINE,
    ("POST", "/api/v1/devices/{serial}/release"): LINE,
    ("POST", "/api/v1/lots/{lot}/release"): LINE,
    ("POST", "/api/v1/devices/{serial}/decommission"): ADMIN,
    ("GET", "/api/v1/devices/{serial}/labels/{name}"): LINE,
    ("GET", "/api/v1/lots/{lot}/labels.pdf"): LINE,
    ("POST", "/api/v1/devices/{serial}/enroll"): LINE,
    ("GET", "/pki/crl/{role}.crl"): PUBLIC,
    ("POST", "/pki/ocsp"): PUBLIC,
    ("GET", "/pki/ocsp/{encoded}"): PUBLIC,
    ("GET", "/fw/{token}"): PUBLIC,
    ("HEAD", "/fw/{token}"): PUBLIC,
    ("POST", "/logs/{token}"): PUBLIC,
    ("POST", "/logs/{token}/{filename}"): PUBLIC,
    ("GET", "/api/v1/stations/{station_id}/logs"): ADMIN,
    ("PUT", "/api/v1/stations/{station_id}/time-zone"): ADMIN,
    ("GET", "/api/v1/cas"): ADMIN,
    ("GET", "/api/v1/cas/{role}/chain.pem"): ADMIN,
    ("POST", "/api/v1/certificates"): LINE,
    ("GET", "/api/v1/certificates"): ADMIN,
    ("GET", "/api/v1/certificates/{serial}"): ADMIN,
    ("POST", "/api/v1/certificates/{serial}/revoke"): ADMIN,
    ("GET", "/api/v1/stations/{station_id}/installed-certificates"): ADMIN,
    ("POST", "/api/v1/stations/{station_id}/installed-certificates/delete"): ADMIN,
    ("POST", "/api/v1/app/signup"): PUBLIC,
    ("POST", "/api/v1/app/verify-email"): PUBLIC,
    ("POST", "/api/v1/app/verify-email/resend"): APP_USER,
    ("POST", "/api/v1/app/password-reset"): PUBLIC,
    ("POST", "/api/v1/app/password-reset/confirm"): PUBLIC,
    ("GET", "/api/v1/app/me"): APP_USER,
    ("POST", "/api/v1/app/pairings"): APP_USER,
    ("GET", "/api/v1/app/stations"): APP_USER,
    ("GET", "/api/v1/app/stations/{serial}"): APP_USER,
    ("DELETE", "/api/v1/app/stations/{serial}/ownership"): APP_USER,
    ("POST", "/api/v1/app/stations/{serial}/invitations"): APP_USER,
    ("POST", "/api/v1/app/invitations/accept"): APP_USER,
    ("GET", "/api/v1/app/stations/{serial}/members"): APP_USER,
    ("DELETE", "/api/v1/app/stations/{serial}/members/{user_id}"): APP_USER,
    ("GET", "/api/v1/app/cards"): APP_USER,
    ("POST", "/api/v1/app/cards"): APP_USER,
    ("DELETE", "/api/v1/app/cards/{id_token}"): APP_USER,
    ("POST", "/api/v1/app/stations/{serial}/charging"): APP_USER,
    ("POST", "/api/v1/app/sessions/{transaction_id}/stop"): APP_USER,
    ("GET", "/api/v1/app/sessions"): APP_USER,
    ("GET", "/api/v1/app/sessions/{transaction_id}"): APP_USER,
    ("POST", "/api/v1/app/certificates"): APP_USER,
}
WEBSOCKET_RULES: dict[str, frozenset[str]] = {"/api/v1/events": ANY}

ROLE_REFUSALS = ("this needs the role", "the app API is for users")


def http_operations(app: FastAPI) -> set[tuple[str, str]]:
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def websocket_paths(app: FastAPI) -> set[str]:
    found: set[str] = set()
    for route in app.routes:
        inner = getattr(route, "original_router", None)
        for candidate in [route, *(inner.routes if inner is not None else [])]:
            if isinstance(candidate, APIWebSocketRoute):
                found.add(candidate.path)
    return found


def concrete(path: str) -> str:
    """A request path for a template: numbers where ids are numbers, words elsewhere."""
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1) == "transaction_id" else "NOSUCH", path)


def refused_for_role(response: Response) -> bool:
    if response.status_code != 403 or not response.content:  # HEAD answers carry no body
        return False
    detail = str(response.json().get("detail", ""))
    return detail.startswith(ROLE_REFUSALS)


def callers(platform: Platform, client: TestClient) -> dict[str, dict[str, str]]:
    make_user(platform, "admin@example.com", "admin")
    make_user(platform, "owner@example.com", "owner")
    line = make_client(platform, "manufacturing")
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(line.client_id, line.client_secret),
    )
    assert token.status_code == 200, token.text
    return {
        "anonymous": {},
        "admin": bearer(password_tokens(client, "admin@example.com")["access_token"]),
        "owner": bearer(password_tokens(client, "owner@example.com")["access_token"]),
        "manufacturing": bearer(token.json()["access_token"]),
    }


def test_every_route_has_a_rule(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    operations = http_operations(app)
    assert sorted(operations - RULES.keys()) == [], "endpoints without an authorization rule"
    assert sorted(RULES.keys() - operations) == [], "rules for endpoints that no longer exist"
    assert websocket_paths(app) == set(WEBSOCKET_RULES)


def test_each_caller_passes_or_is_refused_by_role(client: TestClient, platform: Platform) -> None:
    who = callers(platform, client)
    wrong: list[str] = []
    for (method, path), allowed in sorted(RULES.items()):
        for name, headers in who.items():
            response = client.request(method, concrete(path), headers=headers)
            if name == "anonymous" and allowed is not PUBLIC:
                ok = response.status_code == 401
            elif name in allowed:
                ok = response.status_code != 401 and not refused_for_role(response)
            else:
                ok = refused_for_role(response)
            if not ok:
                wrong.append(
                    f"{name} {method} {path}: {response.status_code} {response.text[:120]}"
                )
    assert wrong == []


def test_an_expired_token_is_refused_by_every_protected_route(
    client: TestClient, platform: Platform
) -> None:
    expired = platform.tokens.issue(
        Principal("someone", "user", frozenset({"admin", "owner", "manufacturing"})),
        now=utcnow() - timedelta(hours=2),
    )
    wrong = [
        f"{method} {path}: {response.status_code}"
        for (method, path), allowed in sorted(RULES.items())
        if allowed is not PUBLIC
        for response in [client.request(method, concrete(path), headers=bearer(expired))]
        if response.status_code != 401
    ]
    assert wrong == []
