"""Every dashboard route, found in the app itself: who is let in, who gets 403, who logs in first.

New pages are covered the day they land: the routes are read from the application, not listed.
Factory pages (``/factory...``) admit manufacturing; every other page admits admin and support;
every form post needs admin (or manufacturing on the factory) and the session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.platform import Platform
from tests.dashboard.pages import log_in

PUBLIC = {"/login", "/login/sso", "/login/sso/callback"}


def routes(top: list[Any]) -> Iterator[Any]:
    """The app's routes, those of included routers too (the dashboard's have no prefix)."""
    for route in top:
        inner = getattr(route, "original_router", None)
        yield from inner.routes if inner is not None else [route]


def dashboard_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path with sample parameters) of every route the dashboard's modules serve."""
    found = []
    for route in routes(client.app.routes):  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute) or route.path in PUBLIC:
            continue
        if not route.endpoint.__module__.startswith("app.dashboard."):
            continue
        path = route.path
        sample = re.sub(r"\{[^}]+\}", "1", path)
        found.extend((method, sample) for method in sorted(route.methods or ()))
    return found


def is_factory(path: str) -> bool:
    return path == "/factory" or path.startswith("/factory/")


def test_the_dashboard_has_pages_to_check(client: TestClient) -> None:
    assert ("GET", "/") in dashboard_routes(client)


def test_a_visitor_is_sent_to_log_in_on_every_page(client: TestClient) -> None:
    for method, path in dashboard_routes(client):
        if method == "GET":
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303, (path, answer.status_code)
            assert answer.headers["location"].startswith("/login"), path


def test_manufacturing_gets_403_on_every_page_but_the_factory(
    platform: Platform, client: TestClient
) -> None:
    log_in(platform, client, "manufacturing")
    for method, path in dashboard_routes(client):
        if method != "GET" or path == "/" or is_factory(path):
            continue
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 403, (path, answer.status_code)
        assert "needs the role" in answer.text, path
    assert client.get("/", follow_redirects=False).headers["location"] == "/factory"


def test_support_may_post_nothing(platform: Platform, client: TestClient) -> None:
    csrf = log_in(platform, client, "support")
    for method, path in dashboard_routes(client):
        if method != "POST" or path == "/logout":
            continue
        answer = client.post(path, data={"csrf_token": csrf}, follow_redirects=False)
        assert answer.status_code == 403, (path, answer.status_code)


def test_every_post_without_the_csrf_token_is_refused(
    platform: Platform, client: TestClient
) -> None:
    log_in(platform, client, "admin")
    for method, path in dashboard_routes(client):
        if method != "POST":
            continue
        answer = client.post(path, data={"anything": "1"}, follow_redirects=False)
        assert answer.status_code == 403, (path, answer.status_code)
        assert "CSRF" in answer.text, path
