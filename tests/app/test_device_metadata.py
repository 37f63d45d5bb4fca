"""Device metadata stays within its bounds, and the once-only security codes are never lost.

300 levels of nesting in under 4 KiB used to be stored, answer 500 (the codes of that device
gone for good) and break every device list afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from app.api import devices
from app.platform import Platform
from enrollment.tables import DeviceRow
from tests.app.factory_line import FAMILY, device_body, stock_line
from tests.e2e.http import TIMEOUT
from tests.factories import bearer, make_client
from tests.live import LiveServer
from tests.problems import assert_problem


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
def line(platform: Platform, http: httpx.Client) -> dict[str, str]:
    stock_line(platform)
    issued = make_client(platform, "manufacturing")
    answer = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(issued.client_id, issued.client_secret),
    )
    assert answer.status_code == 200, answer.text
    return bearer(answer.json()["access_token"])


def stored_serials(platform: Platform) -> list[str]:
    with Session(platform.engine) as session:
        return [row.serial for row in session.exec(select(DeviceRow)).all()]


def test_three_hundred_levels_are_refused_and_the_retry_gets_its_codes(
    platform: Platform, http: httpx.Client, line: dict[str, str]
) -> None:
    deep = nested(300)
    assert len(json.dumps(deep)) < 4096
    refused = http.post("/api/v1/devices", json=device_body("SN-1", metadata=deep), headers=line)
    problem = assert_problem(refused, 422, "validation-error")
    assert problem["errors"] == [
        {
            "field": "metadata",
            "message": "Value error, metadata.a.a.a.a.a: nested deeper than 5 levels",
        }
    ]
    assert stored_serials(platform) == []
    five = nested(5)
    created = http.post("/api/v1/devices", json=device_body("SN-1", metadata=five), headers=line)
    assert created.status_code == 201, created.text
    assert set(created.json()["codes"]) == {"device_code", "packaging_code"}
    listed = http.get("/api/v1/devices", headers=line)
    assert listed.status_code == 200 and listed.json()["items"][0]["metadata"] == five


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"k" * 65: 1}, "metadata.kkkkkkkkkkkkkkkk...: key longer than 64 characters"),
        ({"note": "x" * 1025}, "metadata.note: string longer than 1024 characters"),
        ({"rev": [1, 2**63]}, f"metadata.rev[1]: integer outside +-{2**53 - 1}"),
        ({"list": [[[[[1]]]]]}, "metadata.list[0][0][0][0]: nested deeper than 5 levels"),
        (
            {f"k{i}": "v" * 100 for i in range(40)},
            "metadata: larger than 4096 bytes as JSON (4351)",
        ),
    ],
)
def test_metadata_outside_its_bounds_is_422_naming_the_value(
    platform: Platform,
    http: httpx.Client,
    line: dict[str, str],
    metadata: dict[str, Any],
    message: str,
) -> None:
    response = http.post(
        "/api/v1/devices", json=device_body("SN-1", metadata=metadata), headers=line
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"] == [{"field": "metadata", "message": f"Value error, {message}"}]
    assert stored_serials(platform) == []


def test_a_csv_row_with_deep_metadata_is_a_row_error_and_the_others_register(
    platform: Platform, http: httpx.Client, line: dict[str, str]
) -> None:
    deep = json.dumps(nested(300)).replace('"', '""')
    data = (
        "serial,family,lot,metadata\n"
        f'SN-1,{FAMILY},L1,"{deep}"\n'
        f'SN-2,{FAMILY},L1,"{{""rev"": 3}}"\n'
    ).encode()
    response = http.post(
        "/api/v1/devices/import", content=data, headers={**line, "Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert [(row["line"], row["status"], row["error"]) for row in rows] == [
        (
            2,
            "error",
            {
                "code": "invalid_metadata",
                "message": "metadata.a.a.a.a.a: nested deeper than 5 levels",
            },
        ),
        (3, "created", None),
    ]
    assert stored_serials(platform) == ["SN-2"]
    assert http.get("/api/v1/devices", headers=line).status_code == 200


def test_a_bad_row_stored_before_the_bounds_does_not_break_listing(
    platform: Platform, http: httpx.Client, line: dict[str, str]
) -> None:
    for serial in ("SN-1", "SN-2"):
        created = http.post("/api/v1/devices", json=device_body(serial), headers=line)
        assert created.status_code == 201, created.text
    with Session(platform.engine) as session:
        row = session.get(DeviceRow, "SN-1")
        assert row is not None
        row.metadata_json = json.dumps(nested(300))
        session.add(row)
        session.commit()
    listed = http.get("/api/v1/devices", headers=line)
    assert listed.status_code == 200, listed.text
    first, second = listed.json()["items"]
    assert first["serial"] == "SN-1" and first["metadata"] == {}
    assert first["metadata_error"] == (
        "stored metadata is outside the bounds: metadata.a.a.a.a.a: nested deeper than 5 levels"
    )
    assert second["serial"] == "SN-2" and second["metadata_error"] is None
    one = http.get("/api/v1/devices/SN-1", headers=line)
    assert one.status_code == 200 and one.json()["metadata"] == {}


def test_an_answer_that_cannot_be_built_registers_nothing_so_the_codes_are_not_lost(
    platform: Platform,
    http: httpx.Client,
    line: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever breaks the 201 answer must break it before the commit: the retry then
    registers afresh and gets the codes, instead of a 200 without them."""
    real = devices.DevicePublic.of

    def broken(*_args: object) -> devices.DevicePublic:
        raise RuntimeError("cannot serialize")

    monkeypatch.setattr(devices.DevicePublic, "of", broken)
    with httpx.Client(
        base_url=http.base_url, timeout=TIMEOUT
    ) as once:  # uvicorn closes it after a 500
        failed = once.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    assert failed.status_code == 500
    assert stored_serials(platform) == []
    monkeypatch.setattr(devices.DevicePublic, "of", real)
    retried = http.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    assert retried.status_code == 201, retried.text
    assert retried.json()["codes"]["device_code"]
