"""Tokens of an external OIDC issuer, validated through a JWKS this test serves itself."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from app.main import create_app
from app.platform import build_platform
from common.clock import utcnow
from tests.conftest import make_settings
from tests.factories import bearer
from tests.problems import assert_problem

ISSUER = "https://keycloak.example/realms/chargeline"


@pytest.fixture(scope="module")
def issuer_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(issuer_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(issuer_key.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    document = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/certs"
    server.shutdown()
    server.server_close()


@pytest.fixture
def oidc_client(tmp_path: Path, database_url: str, jwks_url: str) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path,
        database_url,
        oidc_issuer=ISSUER,
        oidc_jwks_url=jwks_url,
        oidc_audience="chargeline-app",
    )
    platform = build_platform(settings)
    with TestClient(create_app(platform=platform)) as client:
        yield client
    platform.close()


def _token(key: rsa.RSAPrivateKey, **overrides: object) -> str:
    now = utcnow()
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": "chargeline-app",
        "sub": "kc-user-1",
        "realm_access": {"roles": ["admin", "offline_access"]},
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def test_a_keycloak_token_is_accepted_with_its_realm_roles(
    oidc_client: TestClient, issuer_key: rsa.RSAPrivateKey
) -> None:
    response = oidc_client.get("/api/v1/me", headers=bearer(_token(issuer_key)))
    assert response.json() == {"subject": "kc-user-1", "kind": "user", "roles": ["admin"]}


def test_cognito_groups_become_roles(
    oidc_client: TestClient, issuer_key: rsa.RSAPrivateKey
) -> None:
    token = _token(issuer_key, realm_access=None, **{"cognito:groups": ["owner"]})
    assert oidc_client.get("/api/v1/me", headers=bearer(token)).json()["roles"] == ["owner"]


def test_a_token_signed_by_another_key_is_401(oidc_client: TestClient) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_problem(
        oidc_client.get("/api/v1/me", headers=bearer(_token(stranger))), 401, "unauthorized"
    )


def test_a_token_for_another_audience_of_the_issuer_is_401(
    oidc_client: TestClient, issuer_key: rsa.RSAPrivateKey
) -> None:
    token = _token(issuer_key, aud="another-app")
    assert_problem(oidc_client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")


def test_an_expired_issuer_token_is_401(
    oidc_client: TestClient, issuer_key: rsa.RSAPrivateKey
) -> None:
    token = _token(issuer_key, exp=int((utcnow() - timedelta(minutes=1)).timestamp()))
    body = assert_problem(oidc_client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")
    assert body["detail"] == "token expired"
