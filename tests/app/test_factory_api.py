"""The factory line over REST: families, the MAC pool, registration, release, decommission."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.platform import Platform
from enrollment.tables import DeviceRow
from tests.app.factory_line import (
    FAMILY,
    device_body,
    line_headers,
    stock_line,
)
from tests.e2e.http import TIMEOUT
from tests.factories import admin_headers
from tests.live import LiveServer
from tests.problems import assert_problem


@pytest.fixture
def line(platform: Platform, client: TestClient) -> dict[str, str]:
    stock_line(platform)
    return line_headers(platform, client)


def test_an_admin_manages_families(platform: Platform, client: TestClient) -> None:
    admin = admin_headers(platform, client)
    body = {"name": "wb-3", "vendor": "ACME", "model": "W3", "ocpp_version": "1.6"}
    created = client.post("/api/v1/families", json=body, headers=admin)
    assert created.status_code == 201
    assert created.json()["default_channel"] == "stable"
    assert created.json()["_links"]["self"] == {"href": "/api/v1/families/wb-3"}
    again = client.post("/api/v1/families", json=body, headers=admin)
    assert_problem(again, 409, "family-exists")
    changed = client.patch("/api/v1/families/wb-3", json={"default_channel": "beta"}, headers=admin)
    assert changed.json()["default_channel"] == "beta"
    listed = client.get("/api/v1/families", headers=admin).json()
    assert [item["name"] for item in listed["items"]] == ["wb-3"]
    assert client.delete("/api/v1/families/wb-3", headers=admin).status_code == 204
    assert_problem(client.get("/api/v1/families/wb-3", headers=admin), 404, "not-found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "vendor": "a", "model": "b", "ocpp_version": "1.6"}, "name"),
        ({"name": "a/b", "vendor": "a", "model": "b", "ocpp_version": "1.6"}, "name"),
        ({"name": "a", "vendor": "a", "model": "b", "ocpp_version": "3.0"}, "ocpp_version"),
        ({"name": "a", "vendor": "a", "model": "b", "ocpp_version": "1.6", "x": 1}, "x"),
    ],
)
def test_a_bad_family_names_the_field(
    platform: Platform, client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.post("/api/v1/families", json=body, headers=admin_headers(platform, client))
    problem = assert_problem(response, 422, "validation-error")
    assert problem["detail"] == f"invalid request: {field}"


def test_a_line_script_may_not_manage_families_or_the_pool(
    platform: Platform, client: TestClient, line: dict[str, str]
) -> None:
    assert_problem(client.get("/api/v1/families", headers=line), 403, "forbidden")
    response = client.post("/api/v1/mac-ranges", json={"range": "x"}, headers=line)
    assert_problem(response, 403, "forbidden")


def test_an_admin_adds_mac_ranges_and_sees_the_pool(platform: Platform, client: TestClient) -> None:
    admin = admin_headers(platform, client)
    added = client.post(
        "/api/v1/mac-ranges", json={"range": "0a-00-00-00-00-00-0a-00-00-00-00-0f"}, headers=admin
    )
    assert added.status_code == 201
    assert added.json()["first"] == "0A:00:00:00:00:00" and added.json()["size"] == 16
    overlap = client.post(
        "/api/v1/mac-ranges", json={"range": "0A:00:00:00:00:0F-0A:00:00:00:00:1F"}, headers=admin
    )
    assert_problem(overlap, 409, "mac-range-overlap")
    pool = client.get("/api/v1/mac-ranges", headers=admin).json()
    assert (pool["size"], pool["allocated"], pool["free"]) == (16, 0, 16)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("02:00:00:00:00:00", "expected FIRST-LAST, e.g. 02:00:00:00:00:00-02:00:00:00:FF:FF"),
        ("02:00:00:00:00:10-02:00:00:00:00:00", "range starts at 02:00:00:00:00:10, after its"),
        ("01:00:00:00:00:00-01:00:00:00:00:FF", "01:00:00:00:00:00 is a multicast (group) addr"),
        ("02:00:00:00:00:00-02:00:01:00:00:00", "range holds 16777217 addresses; at most"),
        ("zz:00:00:00:00:00-02:00:00:00:00:01", "expected FIRST-LAST"),
    ],
)
def test_a_malformed_mac_range_is_422_with_the_reason(
    platform: Platform, client: TestClient, text: str, detail: str
) -> None:
    admin = admin_headers(platform, client)
    response = client.post("/api/v1/mac-ranges", json={"range": text}, headers=admin)
    problem = assert_problem(response, 422, "invalid-mac-range")
    assert str(problem["detail"]).startswith(detail)


def test_registration_is_201_then_200_with_the_same_device_and_mac(
    client: TestClient, line: dict[str, str]
) -> None:
    first = client.post("/api/v1/devices", json=device_body(" sn-0001 "), headers=line)
    assert first.status_code == 201
    assert first.headers["location"] == "/api/v1/devices/SN-0001"
    body = first.json()
    assert body["serial"] == "SN-0001" and body["mac"] == "02:00:00:00:00:00"
    assert body["state"] == "registered" and body["codes"]["device_code"]
    assert body["_links"]["device_label"] == {"href": "/api/v1/devices/SN-0001/labels/device.png"}
    again = client.post("/api/v1/devices", json=device_body("SN-0001"), headers=line)
    assert again.status_code == 200
    assert again.json()["mac"] == body["mac"] and again.json()["codes"] is None


def test_a_conflicting_registration_is_409_naming_what_differs(
    client: TestClient, line: dict[str, str]
) -> None:
    client.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    response = client.post(
        "/api/v1/devices", json=device_body("SN-1", metadata={"hw": "B"}), headers=line
    )
    problem = assert_problem(response, 409, "registration-conflict")
    assert problem["detail"] == "serial SN-1 is already registered with a different metadata"
    assert problem["differences"] == [
        {"field": "metadata", "registered": {}, "requested": {"hw": "B"}}
    ]


def test_an_idempotency_key_replays_and_refuses_another_serial(
    client: TestClient, line: dict[str, str]
) -> None:
    keyed = {**line, "Idempotency-Key": "batch-7-row-1"}
    assert (
        client.post("/api/v1/devices", json=device_body("SN-1"), headers=keyed).status_code == 201
    )
    assert (
        client.post("/api/v1/devices", json=device_body("SN-1"), headers=keyed).status_code == 200
    )
    other = client.post("/api/v1/devices", json=device_body("SN-2"), headers=keyed)
    assert_problem(other, 409, "idempotency-key-reused")


@pytest.mark.parametrize(
    ("body", "status", "slug", "detail"),
    [
        (device_body("SN 1"), 422, "invalid-serial", "serial number has ' ' at position 3"),
        (device_body("-SN1"), 422, "invalid-serial", "serial number must start with a letter"),
        (device_body("S"), 422, "invalid-serial", "serial number has 1 characters; at least 3"),
        (device_body("SÉRIE"), 422, "invalid-serial", "serial number has 'É' at position 2"),
        (device_body("A" * 26), 422, "invalid-serial", "serial number has 26 characters"),
        ({**device_body("SN-1"), "family": "nope"}, 422, "unknown-family", "unknown hardware"),
        (device_body("SN-1", lot="a/b"), 422, "validation-error", "invalid request: lot"),
        (device_body("SN-1", metadata={"x": "y" * 5000}), 422, "validation-error", "invalid re"),
        (device_body("SN-1", metadata=[1]), 422, "validation-error", "invalid request: metadata"),
        ({"serial": "SN-1", "family": FAMILY}, 422, "validation-error", "invalid request: lot"),
    ],
)
def test_bad_registrations_are_refused_with_the_exact_reason(
    client: TestClient,
    line: dict[str, str],
    body: dict[str, object],
    status: int,
    slug: str,
    detail: str,
) -> None:
    response = client.post("/api/v1/devices", json=body, headers=line)
    assert str(assert_problem(response, status, slug)["detail"]).startswith(detail)


def test_registration_needs_the_manufacturing_or_admin_role(
    platform: Platform, client: TestClient
) -> None:
    stock_line(platform)
    owner = line_headers(platform, client, role="admin")
    assert (
        client.post("/api/v1/devices", json=device_body("SN-1"), headers=owner).status_code == 201
    )
    response = client.post("/api/v1/devices", json=device_body("SN-2"))
    assert_problem(response, 401, "unauthorized")


def test_an_exhausted_pool_is_a_409_problem(platform: Platform, client: TestClient) -> None:
    stock_line(platform, mac_range="02:00:00:00:00:00-02:00:00:00:00:00")
    line = line_headers(platform, client)
    assert client.post("/api/v1/devices", json=device_body("SN-1"), headers=line).status_code == 201
    response = client.post("/api/v1/devices", json=device_body("SN-2"), headers=line)
    problem = assert_problem(response, 409, "mac-pool-exhausted")
    assert problem["detail"] == (
        "MAC pool exhausted: all 1 addresses of 1 ranges are taken; an admin must add a range"
    )


def test_releasing_a_device_that_is_not_enrolled_is_409_naming_its_state(
    client: TestClient, line: dict[str, str]
) -> None:
    client.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    response = client.post("/api/v1/devices/SN-1/release", headers=line)
    problem = assert_problem(response, 409, "invalid-transition")
    assert problem["current_state"] == "registered" and problem["requested_state"] == "released"
    assert problem["detail"] == "device is registered; it cannot become released"
    assert_problem(client.post("/api/v1/devices/NOPE-1/release", headers=line), 404, "not-found")
    lot = client.post("/api/v1/lots/LOT-1/release", headers=line).json()
    assert lot["refused"] == 1 and lot["devices"][0]["state"] == "registered"


def test_an_admin_decommissions_and_a_second_time_is_409(
    platform: Platform, client: TestClient, line: dict[str, str]
) -> None:
    client.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    assert_problem(client.post("/api/v1/devices/SN-1/decommission", headers=line), 403, "forbidden")
    admin = admin_headers(platform, client)
    done = client.post("/api/v1/devices/SN-1/decommission", json={"reason": "drop"}, headers=admin)
    assert done.status_code == 200 and done.json()["state"] == "decommissioned"
    again = client.post("/api/v1/devices/SN-1/decommission", headers=admin)
    assert assert_problem(again, 409, "invalid-transition")["current_state"] == "decommissioned"


def test_devices_list_by_lot_and_state(client: TestClient, line: dict[str, str]) -> None:
    for serial, lot in (("SN-1", "A"), ("SN-2", "A"), ("SN-3", "B")):
        client.post("/api/v1/devices", json=device_body(serial, lot=lot), headers=line)
    page = client.get("/api/v1/devices", params={"lot": "A", "limit": 1}, headers=line).json()
    assert page["total"] == 2 and [d["serial"] for d in page["items"]] == ["SN-1"]
    assert "next" in page["_links"]
    states = client.get("/api/v1/devices", params={"state": "enrolled"}, headers=line).json()
    assert states["total"] == 0
    one = client.get("/api/v1/devices/sn-3", headers=line).json()
    assert one["lot"] == "B" and one["family"] == FAMILY


def test_twenty_concurrent_requests_for_one_serial_make_one_device(
    platform: Platform, live_server: LiveServer
) -> None:
    stock_line(platform)
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT) as http:
        issued_headers = _client_token(platform, http)

    def post(_: int) -> tuple[int, str]:
        with httpx.Client(base_url=live_server.url, timeout=TIMEOUT) as http:
            response = http.post(
                "/api/v1/devices", json=device_body("SN-RACE"), headers=issued_headers
            )
            return response.status_code, response.json()["mac"]

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(post, range(20)))
    assert sorted(status for status, _ in answers) == [200] * 19 + [201]
    assert {mac for _, mac in answers} == {"02:00:00:00:00:00"}
    with Session(platform.engine) as session:
        assert len(session.exec(select(DeviceRow)).all()) == 1


def _client_token(platform: Platform, http: httpx.Client) -> dict[str, str]:
    from tests.factories import bearer, make_client

    issued = make_client(platform, "manufacturing")
    token = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(issued.client_id, issued.client_secret),
    ).json()["access_token"]
    return bearer(token)


def test_the_families_and_the_mac_pool_are_paged_with_links(
    platform: Platform, client: TestClient
) -> None:
    admin = admin_headers(platform, client)
    for name in ("wb-a", "wb-b", "wb-c"):
        body = {"name": name, "vendor": "ACME", "model": name, "ocpp_version": "1.6"}
        assert client.post("/api/v1/families", json=body, headers=admin).status_code == 201
    for first in ("06", "0A", "0E"):
        body = {"range": f"{first}:00:00:00:00:00-{first}:00:00:00:00:0F"}
        assert client.post("/api/v1/mac-ranges", json=body, headers=admin).status_code == 201

    families = client.get("/api/v1/families?limit=2", headers=admin).json()
    assert (families["total"], families["limit"], families["offset"]) == (3, 2, 0)
    assert len(families["items"]) == 2
    assert families["_links"]["next"]["href"].endswith("/api/v1/families?limit=2&offset=2")
    assert "prev" not in families["_links"]

    pool = client.get("/api/v1/mac-ranges?limit=2&offset=2", headers=admin).json()
    assert [r["first"] for r in pool["items"]] == ["0E:00:00:00:00:00"]
    assert (pool["total"], pool["limit"], pool["offset"]) == (3, 2, 2)
    assert (pool["size"], pool["allocated"], pool["free"]) == (48, 0, 48)
    assert pool["_links"]["prev"]["href"].endswith("/api/v1/mac-ranges?limit=2&offset=0")
    assert "next" not in pool["_links"]
