"""Pairing with what the labels print under their QR codes, typed as a person types it.

The label text is read from the SVG labels the factory line fetches before release (release
erases them), exactly as a print shop would print it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import audit
from app.identity.tables import LoginFailure
from app.platform import Platform
from common.clock import utcnow
from enrollment import service
from tests.app.factory_line import line_headers
from tests.owner_helpers import Labels, device_state, login, make_device

SERIAL = "SN-TYPE-0001"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def printed_lines(client: TestClient, line: dict[str, str], serial: str, kind: str) -> list[str]:
    response = client.get(f"/api/v1/devices/{serial}/labels/{kind}.svg", headers=line)
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.text.split("\n", 1)[1])
    return [element.text or "" for element in root.iter(SVG_TEXT)]


def release(platform: Platform, serial: str) -> None:
    with Session(platform.engine) as session:
        actor = audit.Actor("test", "local")
        service.release_device(session, serial, actor=actor, now=utcnow(), audit=audit.record)
        session.commit()


def sloppy(code: str) -> str:
    """How a person types a code: lower case, spaces for dashes, O for 0 and l for 1."""
    return code.replace("-", " ").replace("0", "O").replace("1", "l").lower()


@pytest.fixture
def printed(client: TestClient, platform: Platform) -> tuple[Labels, dict[str, list[str]]]:
    labels = make_device(platform, SERIAL, release=False)
    line = line_headers(platform, client)
    text = {kind: printed_lines(client, line, SERIAL, kind) for kind in ("device", "packaging")}
    release(platform, SERIAL)
    return labels, text


@pytest.fixture
def owner(client: TestClient, platform: Platform) -> dict[str, str]:
    return login(platform, client, "owner@example.com")


def post_pair(
    client: TestClient, headers: dict[str, str], device: str, packaging: str, **extra: str
) -> httpx.Response:
    return client.post(
        "/api/v1/app/pairings",
        json={"device_label": device, "packaging_label": packaging, **extra},
        headers=headers,
    )


def test_the_labels_print_the_serial_the_mac_and_the_code(
    printed: tuple[Labels, dict[str, list[str]]],
) -> None:
    _, text = printed
    assert text["device"][0] == f"SN {SERIAL}" and text["device"][1].startswith("MAC ")
    assert text["packaging"][0] == f"SN {SERIAL}" and len(text["packaging"]) == 2


def test_the_owner_pairs_with_the_whole_printed_text_of_both_labels(
    client: TestClient,
    platform: Platform,
    printed: tuple[Labels, dict[str, list[str]]],
    owner: dict[str, str],
) -> None:
    _, text = printed
    response = post_pair(client, owner, "\n".join(text["device"]), "\n".join(text["packaging"]))
    assert response.status_code == 201, response.text
    assert response.json()["serial"] == SERIAL and response.json()["role"] == "owner"
    assert device_state(platform, SERIAL) == "paired"


def test_a_scanned_device_label_and_the_packaging_code_typed_sloppily_pair(
    client: TestClient,
    platform: Platform,
    printed: tuple[Labels, dict[str, list[str]]],
    owner: dict[str, str],
) -> None:
    labels, text = printed
    response = post_pair(client, owner, labels.device, sloppy(text["packaging"][-1]))
    assert response.status_code == 201, response.text
    assert device_state(platform, SERIAL) == "paired"


def test_two_typed_codes_pair_with_the_serial_and_are_refused_without_it(
    client: TestClient,
    platform: Platform,
    printed: tuple[Labels, dict[str, list[str]]],
    owner: dict[str, str],
) -> None:
    _, text = printed
    device_code, packaging_code = sloppy(text["device"][-1]), sloppy(text["packaging"][-1])
    refused = post_pair(client, owner, device_code, packaging_code)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/invalid-qr-payload")
    assert refused.json()["reason"] == "missing_serial"
    assert "SN" in refused.json()["detail"]
    paired = post_pair(client, owner, device_code, packaging_code, serial=SERIAL.lower())
    assert paired.status_code == 201, paired.text
    assert device_state(platform, SERIAL) == "paired"


def test_the_device_labels_text_in_the_packaging_field_is_a_wrong_kind(
    client: TestClient, printed: tuple[Labels, dict[str, list[str]]], owner: dict[str, str]
) -> None:
    labels, text = printed
    response = post_pair(client, owner, labels.device, "\n".join(text["device"]))
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "wrong_kind"


def test_text_that_is_no_code_names_its_fault_and_is_not_counted(
    client: TestClient,
    platform: Platform,
    printed: tuple[Labels, dict[str, list[str]]],
    owner: dict[str, str],
) -> None:
    labels, text = printed
    short = post_pair(client, owner, labels.device, text["packaging"][-1][:-1])
    assert short.status_code == 422 and short.json()["reason"] == "bad_code"
    assert short.json()["detail"] == "code has 27 symbols; 28 expected"
    garbage = post_pair(client, owner, labels.device, "https://example.com/")
    assert garbage.status_code == 422 and garbage.json()["reason"] == "unknown_format"
    with Session(platform.engine) as session:
        counted = session.exec(
            select(LoginFailure).where(col(LoginFailure.key).startswith("pairing:"))
        ).all()
        assert [(row.key, row.failures) for row in counted if row.failures] == []


def test_wrong_typed_codes_count_towards_the_lockout(
    client: TestClient,
    platform: Platform,
    printed: tuple[Labels, dict[str, list[str]]],
    owner: dict[str, str],
) -> None:
    labels, text = printed
    right = text["packaging"][-1]
    wrong = ("0" if right[0] != "0" else "1") + right[1:]
    statuses = [post_pair(client, owner, labels.device, wrong).status_code for _ in range(5)]
    assert statuses == [403] * 5
    locked = post_pair(client, owner, labels.device, sloppy(right))
    assert locked.status_code == 429, locked.text
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert device_state(platform, SERIAL) == "released"
