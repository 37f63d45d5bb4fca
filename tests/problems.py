"""The one check of a problem+json refusal (RFC 9457) shared by the REST tests."""

from __future__ import annotations

import httpx

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    """Assert ``response`` is the problem ``slug`` with ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = response.json()
    assert body["type"] == f"https://chargeline.dev/problems/{slug}"
    assert body["status"] == status
    return body
