"""Helpers for dashboard tests over HTTP: log in as a role, read a page's CSRF token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.platform import Platform
from tests.factories import PASSWORD, make_user

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
_LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def post_login(client: TestClient, email: str, password: str = PASSWORD, next_url: str = "/"):  # type: ignore[no-untyped-def]
    form = client.get("/login")
    assert form.status_code == 200, form.text
    found = _LOGIN_CSRF.search(form.text)
    assert found
    return client.post(
        "/login",
        data={"email": email, "password": password, "login_csrf": found.group(1), "next": next_url},
        follow_redirects=False,
    )


def log_in(platform: Platform, client: TestClient, *roles: str, email: str | None = None) -> str:
    """Make an account with ``roles``, log the client in and return the session's CSRF token."""
    email = email or f"{'-'.join(roles) or 'nobody'}@example.com"
    make_user(platform, email, *roles)
    answer = post_login(client, email)
    assert answer.status_code == 303, answer.text
    landing = client.get(answer.headers["location"])
    assert landing.status_code == 200, landing.text
    return csrf_of(landing.text)
