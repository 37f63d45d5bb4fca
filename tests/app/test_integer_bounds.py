"""Integers out of range are refused at the REST edge: 422 problem+json naming the field.

Python integers have no size; the databases do. ``offset=2**63`` used to reach SQLite or
PostgreSQL and come back as a plain-text 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.platform import Platform
from tests.e2e.http import TIMEOUT
from tests.factories import PASSWORD, bearer, make_user
from tests.live import LiveServer
from tests.problems import assert_problem

HUGE = 10**30


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
def everyone(platform: Platform, http: httpx.Client) -> dict[str, str]:
    """A user who may call every endpoint: admin, line and owner at once."""
    make_user(platform, "all@example.com", "admin", "manufacturing", "owner")
    answer = http.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "all@example.com", "password": PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    return bearer(answer.json()["access_token"])


def _list_routes(spec: dict[str, Any]) -> list[str]:
    """Every GET operation that pages with ``offset``, path parameters filled in."""
    found = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        names = {p["name"] for p in get.get("parameters", []) if p["in"] == "query"}
        if "offset" in names:
            found.append(path.replace("{lot}", "LOT-1").replace("{rollout_id}", "4242"))
    return found


def _field_names(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


def test_every_list_endpoint_refuses_a_huge_offset_or_limit_naming_the_field(
    http: httpx.Client, everyone: dict[str, str]
) -> None:
    routes = _list_routes(http.get("/openapi.json").json())
    assert "/api/v1/devices" in routes and "/api/v1/app/sessions" in routes
    for route in routes:
        for name, value in (("offset", 2**63), ("offset", HUGE), ("limit", HUGE)):
            response = http.get(route, params={name: value}, headers=everyone)
            problem = assert_problem(response, 422, "validation-error")
            assert _field_names(problem) == [f"query.{name}"], route
            assert problem["detail"] == f"invalid request: query.{name}"
        largest = http.get(route, params={"offset": 2**31 - 1}, headers=everyone)
        # no lot LOT-1, no station {serial} or {station_id}, no rollout 4242: the offset
        # passed, the resource is unknown
        unknown = ("/lots/", "{serial}", "{station_id}", "/rollouts/4242")
        expected = 404 if any(part in route for part in unknown) else 200
        assert largest.status_code == expected, (route, largest.text)


def test_huge_ids_in_paths_are_422_naming_the_parameter(
    http: httpx.Client, everyone: dict[str, str]
) -> None:
    for path in (
        f"/api/v1/transactions/{2**63}",
        f"/api/v1/app/sessions/{2**63}",
        f"/api/v1/app/sessions/{HUGE}",
    ):
        problem = assert_problem(http.get(path, headers=everyone), 422, "validation-error")
        assert _field_names(problem) == ["path.transaction_id"], path
    stop = http.post(f"/api/v1/app/sessions/{HUGE}/stop", headers=everyone)
    assert _field_names(assert_problem(stop, 422, "validation-error")) == ["path.transaction_id"]


@pytest.mark.parametrize(
    ("command", "body", "field"),
    [
        ("unlock", {"evse_id": HUGE}, "evse_id"),
        ("unlock", {"evse_id": 1, "connector_id": 2**63}, "connector_id"),
        ("start", {"id_token": "CARD-1", "evse_id": HUGE}, "evse_id"),
        ("availability", {"operative": True, "evse_id": 2**31}, "evse_id"),
        ("trigger", {"message": "Heartbeat", "evse_id": HUGE}, "evse_id"),
    ],
)
def test_huge_integers_in_command_bodies_are_422_naming_the_field(
    http: httpx.Client, everyone: dict[str, str], command: str, body: dict[str, Any], field: str
) -> None:
    response = http.post(f"/api/v1/stations/CP-1/commands/{command}", json=body, headers=everyone)
    assert _field_names(assert_problem(response, 422, "validation-error")) == [field]


def _integers_without_maximum(node: Any, spec: dict[str, Any], where: str) -> list[str]:
    if isinstance(node, list):
        return [
            found
            for index, item in enumerate(node)
            for found in _integers_without_maximum(item, spec, f"{where}[{index}]")
        ]
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _integers_without_maximum(spec["components"]["schemas"][name], spec, name)
    found = [where] if node.get("type") == "integer" and "maximum" not in node else []
    for key, value in node.items():
        found += _integers_without_maximum(value, spec, f"{where}.{key}")
    return found


def test_no_endpoint_takes_an_integer_without_an_upper_bound(http: httpx.Client) -> None:
    """Covers endpoints added later: every integer a client may send has a maximum."""
    spec = http.get("/openapi.json").json()
    unbounded = [
        found
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for found in _integers_without_maximum(
            [operation.get("parameters", []), operation.get("requestBody", {})],
            spec,
            f"{method.upper()} {path}",
        )
    ]
    assert unbounded == []
