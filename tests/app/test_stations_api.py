"""The stations API: registration, filters, approval, security events, and refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit import AuditEntry
from app.platform import Platform
from charging import events as ev
from charging.service import ChargingCore
from tests.charging.conftest import FAST_PASSWORDS, PASSWORD, T0, at
from tests.factories import admin_headers, bearer, make_user, password_tokens
from tests.problems import assert_problem


def actions(platform: Platform) -> list[str]:
    with Session(platform.engine) as session:
        return [e.action for e in session.exec(select(AuditEntry)).all()]


def test_an_admin_registers_a_station_and_it_is_audited(
    platform: Platform, client: TestClient
) -> None:
    headers = admin_headers(platform, client)
    body = {"id": "CP-0001", "password": PASSWORD, "security_profile": 2}
    response = client.post("/api/v1/stations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    station = response.json()
    assert (station["id"], station["security_profile"], station["pending"]) == ("CP-0001", 2, False)
    assert station["connectors"] == [] and "password" not in str(station)
    assert station["_links"]["transactions"]["href"] == "/api/v1/transactions?station_id=CP-0001"
    assert station["_links"]["commands"]["href"] == "/api/v1/stations/CP-0001/commands"
    assert "station.add" in actions(platform)
    core = ChargingCore(platform.engine, passwords=FAST_PASSWORDS)
    credentials = core.verify_station_password("CP-0001", PASSWORD)
    assert credentials is not None and credentials.security_profile == 2


def test_a_duplicate_station_is_409(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    body = {"id": "CP-0001", "password": PASSWORD}
    assert client.post("/api/v1/stations", json=body, headers=headers).status_code == 201
    again = client.post("/api/v1/stations", json=body, headers=headers)
    problem = assert_problem(again, 409, "station-exists")
    assert problem["detail"] == "station 'CP-0001' already exists"


def test_a_short_password_is_422_naming_the_field(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    response = client.post(
        "/api/v1/stations", json={"id": "CP-1", "password": "short"}, headers=headers
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem["detail"] == "invalid request: password"


def test_bad_station_ids_and_profiles_are_422(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    slash = client.post(
        "/api/v1/stations", json={"id": "CP/1", "password": PASSWORD}, headers=headers
    )
    problem = assert_problem(slash, 422, "validation-error")
    assert problem["errors"] == [{"field": "id", "message": str(problem["detail"])}]
    profile = client.post(
        "/api/v1/stations",
        json={"id": "CP-1", "password": PASSWORD, "security_profile": 0},
        headers=headers,
    )
    assert assert_problem(profile, 422, "validation-error")["detail"] == (
        "invalid request: security_profile"
    )
    extra = client.post(
        "/api/v1/stations", json={"id": "CP-1", "password": PASSWORD, "x": 1}, headers=headers
    )
    assert_problem(extra, 422, "validation-error")


def test_stations_are_filtered_and_paginated(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    core = ChargingCore(platform.engine, passwords=FAST_PASSWORDS)
    for n in range(3):
        core.add_station(f"CP-{n}", PASSWORD, now=T0)
    core.handle(ev.StationBooted("CP-1", "Acme", "AC-22", firmware_version="2.0"), now=T0)
    core.register_pending("CP-NEW", None, now=T0)
    online = client.get("/api/v1/stations?online=true", headers=headers).json()
    assert [s["id"] for s in online["items"]] == ["CP-1"]
    model = client.get("/api/v1/stations?model=AC-22&firmware_version=2.0", headers=headers)
    assert [s["id"] for s in model.json()["items"]] == ["CP-1"]
    pending = client.get("/api/v1/stations?pending=true", headers=headers).json()
    assert [s["id"] for s in pending["items"]] == ["CP-NEW"]
    assert "approve" in pending["items"][0]["_links"]
    first = client.get("/api/v1/stations?limit=2", headers=headers).json()
    assert first["total"] == 4 and len(first["items"]) == 2 and "next" in first["_links"]


def test_malformed_filters_are_422(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    response = client.get("/api/v1/stations?online=maybe", headers=headers)
    assert assert_problem(response, 422, "validation-error")["detail"] == (
        "invalid request: query.online"
    )
    limit = client.get("/api/v1/stations?limit=0", headers=headers)
    assert_problem(limit, 422, "validation-error")


def test_a_station_shows_its_connectors(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    core = ChargingCore(platform.engine, passwords=FAST_PASSWORDS)
    core.add_station("CP-1", PASSWORD, now=T0)
    status = ev.ConnectorStatusChanged(
        "CP-1",
        1,
        1,
        ev.ConnectorStatus.FAULTED,
        at(1),
        detail="Faulted",
        error_code="GroundFailure",
    )
    core.handle(status, now=at(1))
    station = client.get("/api/v1/stations/CP-1", headers=headers).json()
    [connector] = station["connectors"]
    assert (connector["status"], connector["error_code"]) == ("Faulted", "GroundFailure")


def test_an_unknown_station_is_404(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    assert_problem(client.get("/api/v1/stations/CP-NONE", headers=headers), 404, "not-found")
    approve = client.post("/api/v1/stations/CP-NONE/approve", headers=headers)
    assert assert_problem(approve, 404, "not-found")["detail"] == "station not found"


def test_approving_a_pending_station_registers_it(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    core = ChargingCore(platform.engine, passwords=FAST_PASSWORDS)
    core.register_pending("CP-NEW", PASSWORD, now=T0)
    response = client.post("/api/v1/stations/CP-NEW/approve", headers=headers)
    assert response.status_code == 200
    assert response.json()["pending"] is False and response.json()["registered_at"]
    assert "station.approve" in actions(platform)


def test_security_events_are_listed_newest_first(platform: Platform, client: TestClient) -> None:
    headers = admin_headers(platform, client)
    core = ChargingCore(platform.engine, passwords=FAST_PASSWORDS)
    core.add_station("CP-1", PASSWORD, now=T0)
    core.handle(ev.SecurityEventRaised("CP-1", "StartupOfTheDevice", at(1)), now=at(1))
    core.handle(ev.SecurityEventRaised("CP-1", "InvalidTLSVersion", at(2), "TLS 1.0"), now=at(2))
    events = client.get("/api/v1/security-events?station_id=CP-1", headers=headers).json()
    assert [e["type"] for e in events["items"]] == ["InvalidTLSVersion", "StartupOfTheDevice"]
    since = client.get(
        "/api/v1/security-events", params={"since": "2026-03-01T12:01:30"}, headers=headers
    ).json()
    assert [e["tech_info"] for e in since["items"]] == ["TLS 1.0"]
    bad = client.get("/api/v1/security-events?since=yesterday", headers=headers)
    assert_problem(bad, 422, "validation-error")


def test_non_admins_are_403_and_anonymous_callers_401(
    platform: Platform, client: TestClient
) -> None:
    make_user(platform, "owner@example.com", "owner")
    owner = bearer(password_tokens(client, "owner@example.com")["access_token"])
    for method, url in [
        ("GET", "/api/v1/stations"),
        ("POST", "/api/v1/stations"),
        ("GET", "/api/v1/stations/CP-1"),
        ("POST", "/api/v1/stations/CP-1/approve"),
        ("GET", "/api/v1/security-events"),
    ]:
        body = {"id": "CP-1", "password": PASSWORD} if method == "POST" else None
        assert_problem(client.request(method, url, json=body, headers=owner), 403, "forbidden")
        assert_problem(client.request(method, url, json=body), 401, "unauthorized")


def test_an_admin_sets_the_time_zone_of_maintenance_windows(
    platform: Platform, client: TestClient
) -> None:
    headers = admin_headers(platform, client)
    body = {"id": "CP-TZ", "password": PASSWORD}
    assert client.post("/api/v1/stations", json=body, headers=headers).status_code == 201
    url = "/api/v1/stations/CP-TZ/time-zone"
    response = client.put(url, json={"time_zone": "Europe/Berlin"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["time_zone"] == "Europe/Berlin"
    assert "station.time_zone" in actions(platform)
    for zone in ("Mars/Olympus", "../../etc/localtime", "x" * 65, 7):
        refused = client.put(url, json={"time_zone": zone}, headers=headers)
        assert [e["field"] for e in assert_problem(refused, 422, "validation-error")["errors"]] == [
            "time_zone"
        ], zone
    assert client.get("/api/v1/stations/CP-TZ", headers=headers).json()["time_zone"] == (
        "Europe/Berlin"
    )
    cleared = client.put(url, json={"time_zone": None}, headers=headers)
    assert cleared.json()["time_zone"] is None
    missing = client.put(
        "/api/v1/stations/NOPE/time-zone", json={"time_zone": None}, headers=headers
    )
    assert_problem(missing, 404, "not-found")
