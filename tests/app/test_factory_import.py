"""Bulk CSV registration: per-row results, whole-file refusals, re-imports that change nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.platform import Platform
from enrollment.tables import DeviceRow, MacRangeRow
from tests.app.factory_line import FAMILY, line_headers, stock_line
from tests.problems import assert_problem


@pytest.fixture
def line(platform: Platform, client: TestClient) -> dict[str, str]:
    stock_line(platform)
    return line_headers(platform, client)


def post_csv(client: TestClient, headers: dict[str, str], data: bytes) -> dict[str, object]:
    response = client.post(
        "/api/v1/devices/import", content=data, headers={**headers, "Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


GOOD_AND_BAD = (
    "serial,family,lot,colour\n"
    f"SN-1,{FAMILY},L1,red\n"
    f"bad serial,{FAMILY},L1,\n"
    f"SN-2,{FAMILY},,\n"
    "SN-3,nope,L1,\n"
    f"SN-4,{FAMILY},L1,\n"
    f"SN-4,{FAMILY},L1,\n"
    f'SN-5,{FAMILY},L1,"x","extra"\n'
).encode()


def test_bad_rows_never_block_good_rows(client: TestClient, line: dict[str, str]) -> None:
    result = post_csv(client, line, GOOD_AND_BAD)
    rows = result["rows"]
    assert isinstance(rows, list)
    assert [(r["line"], r["status"], (r["error"] or {}).get("code")) for r in rows] == [
        (2, "created", None),
        (3, "error", "bad_serial"),
        (4, "error", "missing_field"),
        (5, "error", "unknown_family"),
        (6, "created", None),
        (7, "duplicate", None),
        (8, "error", "too_many_fields"),
    ]
    assert rows[0]["mac"] == "02:00:00:00:00:00" and rows[4]["mac"] == "02:00:00:00:00:01"
    assert result["summary"] == {"rows": 7, "created": 2, "existing": 0, "duplicate": 1, "error": 4}
    one = client.get("/api/v1/devices/SN-1", headers=line).json()
    assert one["metadata"] == {"colour": "red"}


def test_importing_the_same_file_again_changes_nothing(
    platform: Platform, client: TestClient, line: dict[str, str]
) -> None:
    post_csv(client, line, GOOD_AND_BAD)
    again = post_csv(client, line, GOOD_AND_BAD)
    assert again["summary"] == {"rows": 7, "created": 0, "existing": 2, "duplicate": 1, "error": 4}
    with Session(platform.engine) as session:
        assert len(session.exec(select(DeviceRow)).all()) == 2
        assert session.exec(select(MacRangeRow)).one().next_index == 2


def test_a_row_that_conflicts_with_a_registered_device_is_an_error_row(
    client: TestClient, line: dict[str, str]
) -> None:
    post_csv(client, line, f"serial,family,lot\nSN-1,{FAMILY},L1\n".encode())
    result = post_csv(
        client, line, f"serial,family,lot\nSN-1,{FAMILY},L2\nSN-2,{FAMILY},L2\n".encode()
    )
    rows = result["rows"]
    assert isinstance(rows, list)
    assert rows[0]["error"] == {
        "code": "conflict",
        "message": "serial SN-1 is already registered with a different lot",
    }
    assert rows[1]["status"] == "created"


def test_an_exhausted_pool_fails_the_rows_past_its_end_only(
    platform: Platform, client: TestClient
) -> None:
    stock_line(platform, mac_range="02:00:00:00:00:00-02:00:00:00:00:01")
    line = line_headers(platform, client)
    data = "serial,family,lot\n" + "".join(f"SN-{n},{FAMILY},L\n" for n in range(4))
    rows = post_csv(client, line, data.encode())["rows"]
    assert isinstance(rows, list)
    assert [r["status"] for r in rows] == ["created", "created", "error", "error"]
    assert rows[2]["error"]["code"] == "mac_pool_exhausted"


def test_a_multipart_upload_is_accepted(client: TestClient, line: dict[str, str]) -> None:
    data = f"serial,family,lot\nSN-1,{FAMILY},L1\n".encode()
    response = client.post(
        "/api/v1/devices/import", files={"file": ("lot.csv", data, "text/csv")}, headers=line
    )
    assert response.status_code == 200 and response.json()["summary"]["created"] == 1


@pytest.mark.parametrize(
    ("data", "reason", "detail"),
    [
        (b"", "empty", "file is empty"),
        (b"serial,family\nSN-1,x\n", "missing_columns", "missing columns: lot"),
        (
            b"serial;family;lot\nSN-1;x;y\n",
            "missing_columns",
            "missing columns: serial, family, lot (the file looks ;-sep",
        ),
        (b"serial,family,lot,lot\n", "duplicate_columns", "repeated columns: lot"),
        (b"serial,family,lot\nSN-\xe9,x,y\n", "encoding", "not UTF-8: byte 0xE9 at offset 21"),
        ("serial,family,lot\n".encode("utf-16"), "encoding", "file is UTF-16; save it as UTF-8"),
        (b'serial,family,lot\n"SN-1,x,y\n', "malformed", "line 2: unexpected end of data"),
    ],
)
def test_a_file_refused_as_a_whole_registers_nothing(
    platform: Platform,
    client: TestClient,
    line: dict[str, str],
    data: bytes,
    reason: str,
    detail: str,
) -> None:
    response = client.post(
        "/api/v1/devices/import", content=data, headers={**line, "Content-Type": "text/csv"}
    )
    problem = assert_problem(response, 422, "csv-refused")
    assert problem["reason"] == reason and str(problem["detail"]).startswith(detail)
    with Session(platform.engine) as session:
        assert session.exec(select(DeviceRow)).all() == []


def test_a_huge_file_is_413_before_it_is_read(client: TestClient, line: dict[str, str]) -> None:
    data = b"serial,family,lot\n" + b"SN-1,x,y\n" * 200_000
    response = client.post(
        "/api/v1/devices/import", content=data, headers={**line, "Content-Type": "text/csv"}
    )
    assert_problem(response, 413, "payload-too-large")


def test_a_json_body_or_an_upload_without_a_file_is_refused(
    client: TestClient, line: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/devices/import",
        content=b"{}",
        headers={**line, "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 415, "unsupported-media-type")
    assert problem["detail"] == "send the file as text/csv or multipart"
    no_file = client.post("/api/v1/devices/import", files={"note": (None, "x")}, headers=line)
    assert assert_problem(no_file, 422, "validation-error")["detail"] == "the upload holds no file"


def test_importing_needs_the_manufacturing_role(platform: Platform, client: TestClient) -> None:
    response = client.post(
        "/api/v1/devices/import",
        content=b"serial,family,lot\n",
        headers={"Content-Type": "text/csv"},
    )
    assert_problem(response, 401, "unauthorized")
