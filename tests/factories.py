"""Factories for test data, going through the same services the platform uses."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import audit
from app.identity import service
from app.identity.service import IssuedClient
from app.identity.tables import User
from app.platform import Platform

PASSWORD = "correct horse battery staple"
TEST_ACTOR = audit.Actor("test", "local")


def make_user(
    platform: Platform,
    email: str = "owner@example.com",
    *roles: str,
    password: str = PASSWORD,
    disabled: bool = False,
) -> User:
    with Session(platform.engine, expire_on_commit=False) as session:
        user = service.create_user(
            session, email, password, list(roles) or ["owner"], actor=TEST_ACTOR, verified=True
        )
        user.disabled = disabled
        session.add(user)
        session.commit()
        return user


def make_client(platform: Platform, *roles: str, name: str = "line-1") -> IssuedClient:
    with Session(platform.engine) as session:
        issued = service.create_client(
            session, name, list(roles) or ["manufacturing"], actor=TEST_ACTOR
        )
        session.commit()
        return issued


def password_tokens(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post(
        "/oauth/token", data={"grant_type": "password", "username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admin_headers(
    platform: Platform, client: TestClient, email: str = "admin@example.com"
) -> dict[str, str]:
    make_user(platform, email, "admin")
    return bearer(password_tokens(client, email)["access_token"])


async def admin_headers_http(
    platform: Platform, http: object, email: str = "admin@example.com"
) -> dict[str, str]:
    """Admin bearer headers through a real ``httpx.AsyncClient``."""
    import httpx

    assert isinstance(http, httpx.AsyncClient)
    make_user(platform, email, "admin")
    response = await http.post(
        "/oauth/token", data={"grant_type": "password", "username": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])
