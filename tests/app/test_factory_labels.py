"""Labels over REST: they scan back to the codes given at registration, until release."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session

from app import audit
from app.platform import Platform
from common.clock import utcnow
from enrollment import service
from enrollment.codes import normalize_code
from enrollment.qr import LabelKind, decode_payload
from tests.app.factory_line import device_body, line_headers, stock_line
from tests.problems import assert_problem


@pytest.fixture
def line(platform: Platform, client: TestClient) -> dict[str, str]:
    stock_line(platform)
    return line_headers(platform, client)


def scan(png: bytes) -> str:
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return result.text


@pytest.mark.parametrize(
    ("kind", "code_field"), [("device", "device_code"), ("packaging", "packaging_code")]
)
def test_a_png_label_scans_back_to_the_code_given_at_registration(
    client: TestClient, line: dict[str, str], kind: str, code_field: str
) -> None:
    codes = client.post("/api/v1/devices", json=device_body("SN-1"), headers=line).json()["codes"]
    response = client.get(f"/api/v1/devices/sn-1/labels/{kind}.png", headers=line)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store"
    payload = decode_payload(scan(response.content), expected=LabelKind(kind[0].upper()))
    assert payload.serial == "SN-1" and payload.code == normalize_code(codes[code_field])


def test_the_svg_label_carries_the_serial_mac_and_code(
    client: TestClient, line: dict[str, str]
) -> None:
    codes = client.post("/api/v1/devices", json=device_body("SN-1"), headers=line).json()["codes"]
    response = client.get("/api/v1/devices/SN-1/labels/device.svg", headers=line)
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "SN SN-1" in response.text and "MAC 02:00:00:00:00:00" in response.text
    assert codes["device_code"] in response.text


@pytest.mark.parametrize("name", ["device.gif", "owner.png", "device", "..png"])
def test_an_unknown_label_name_is_404(client: TestClient, line: dict[str, str], name: str) -> None:
    client.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    response = client.get(f"/api/v1/devices/SN-1/labels/{name}", headers=line)
    assert assert_problem(response, 404, "not-found")["detail"] == f"label {name!r} not found"


def test_labels_are_gone_once_the_device_is_released(
    platform: Platform, client: TestClient, line: dict[str, str]
) -> None:
    client.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    with Session(platform.engine) as session:
        service.mark_enrolled(
            session, "SN-1", actor=audit.Actor("test"), now=utcnow(), audit=audit.record
        )
        session.commit()
    assert client.post("/api/v1/devices/SN-1/release", headers=line).status_code == 200
    response = client.get("/api/v1/devices/SN-1/labels/packaging.png", headers=line)
    problem = assert_problem(response, 409, "labels-unavailable")
    assert str(problem["detail"]).startswith("device SN-1 is released; its codes were erased")
    sheet = client.get("/api/v1/lots/LOT-1/labels.pdf", headers=line)
    assert_problem(sheet, 409, "labels-unavailable")


def test_a_lot_sheet_is_a_pdf_with_both_labels_of_every_device(
    client: TestClient, line: dict[str, str]
) -> None:
    for n in range(3):
        client.post("/api/v1/devices", json=device_body(f"SN-{n}", lot="L9"), headers=line)
    response = client.get("/api/v1/lots/L9/labels.pdf", headers=line)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and response.headers["x-labels-skipped"] == "0"
    assert re.search(rb"/Count 1\b", response.content)
    assert_problem(client.get("/api/v1/lots/NOPE/labels.pdf", headers=line), 404, "not-found")


def test_labels_need_the_manufacturing_role(platform: Platform, client: TestClient) -> None:
    response = client.get("/api/v1/devices/SN-1/labels/device.png")
    assert_problem(response, 401, "unauthorized")
