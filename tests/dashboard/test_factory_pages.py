"""The factory pages over HTTP: lots and their counts, import, release, labels, who may act."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import audit
from app.dashboard.auth import ReadView
from app.main import create_app
from app.platform import Platform
from common.clock import utcnow
from enrollment import service
from enrollment.csv_import import Registration
from tests.app.factory_line import FAMILY, line_headers, stock_line
from tests.dashboard.pages import log_in

LINE_ACTOR = audit.Actor("test")


@pytest.fixture
def line(platform: Platform) -> Platform:
    stock_line(platform)
    return platform


def register(platform: Platform, lot: str, *serials: str, enrolled: int = 0) -> None:
    """Register ``serials`` in ``lot`` through the service; enroll the first ``enrolled``."""
    keys = _keys(platform)
    with Session(platform.engine) as session:
        for serial in serials:
            service.register_device(
                session,
                Registration(serial, FAMILY, lot),
                keys=keys,
                actor=LINE_ACTOR,
                now=utcnow(),
                audit=audit.record,
            )
        for serial in serials[:enrolled]:
            service.mark_enrolled(
                session,
                serial,
                actor=LINE_ACTOR,
                now=utcnow(),
                audit=audit.record,
                certificate_serial="0A1B",
            )
        session.commit()


def _keys(platform: Platform):  # type: ignore[no-untyped-def]
    from app.api.factory import secret_keys

    return secret_keys(platform.settings)


def counts(html: str, lot: str | None = None) -> dict[str, int]:
    """The ``data-count`` cells of a page (of one lot's row on the lots page)."""
    if lot is not None:
        row = re.search(rf'<tr data-lot="{re.escape(lot)}">(.*?)</tr>', html, re.S)
        assert row, f"no row for lot {lot}"
        html = row.group(1)
    return {name: int(value) for name, value in re.findall(r'data-count="(\w+)">(\d+)<', html)}


def upload(client: TestClient, csrf: str | None, data: bytes, name: str = "lot.csv"):  # type: ignore[no-untyped-def]
    form = {"csrf_token": csrf} if csrf is not None else {}
    return client.post("/factory/import", data=form, files={"file": (name, data, "text/csv")})


def test_the_lots_page_counts_each_lot_by_stage(line: Platform, client: TestClient) -> None:
    register(line, "LOT-A", "SN-A1", "SN-A2", "SN-A3", enrolled=2)
    register(line, "LOT-B", "SN-B1")
    with Session(line.engine) as session:
        service.release_device(session, "SN-A1", actor=LINE_ACTOR, now=utcnow(), audit=audit.record)
        session.commit()
    log_in(line, client, "support")
    page = client.get("/factory")
    assert page.status_code == 200 and "<h1>Factory</h1>" in page.text
    assert counts(page.text, "LOT-A") == {
        "devices": 3,
        "registered": 1,
        "enrolled": 1,
        "released": 1,
        "decommissioned": 0,
    }
    assert counts(page.text, "LOT-B")["registered"] == 1
    found = client.get("/factory?q=LOT-B")
    assert "LOT-B" in found.text and 'data-lot="LOT-A"' not in found.text


def test_a_lot_page_lists_its_devices_with_their_lifecycle(
    line: Platform, client: TestClient
) -> None:
    register(line, "LOT-A", "SN-A1", "SN-A2", enrolled=1)
    log_in(line, client, "manufacturing")
    page = client.get("/factory/lots/LOT-A")
    assert page.status_code == 200 and "<h1>Lot LOT-A</h1>" in page.text
    assert '<a href="/factory/devices/SN-A1">SN-A1</a>' in page.text
    assert "02:00:00:00:00:00" in page.text and "enrolled" in page.text
    assert "/factory/lots/LOT-A/labels.pdf" in page.text
    assert "/factory/devices/SN-A2/labels/device.png" in page.text
    only = client.get("/factory/lots/LOT-A?state=enrolled")
    assert "SN-A1" in only.text and '/factory/devices/SN-A2"' not in only.text
    hostile = client.get("/factory/lots/LOT-A?state=<script>&offset=-1")
    assert hostile.status_code == 200 and "<script>" not in hostile.text
    assert client.get("/factory/lots/NO-SUCH-LOT").status_code == 404
    assert client.get("/factory/lots/" + "x" * 5000).status_code == 404


def test_manufacturing_imports_a_file_and_sees_one_result_per_row(
    line: Platform, client: TestClient
) -> None:
    csrf = log_in(line, client, "manufacturing")
    data = (
        "serial,family,lot,colour\n"
        f"SN-1,{FAMILY},L1,red\n"
        f"bad serial,{FAMILY},L1,\n"
        "SN-3,nope,L1,\n"
        f"SN-4,{FAMILY},L1,\n"
    ).encode()
    answer = upload(client, csrf, data)
    assert answer.status_code == 200, answer.text
    rows = re.findall(r'<tr class="outcome-(\w+)">\s*<td class="num">(\d+)</td>', answer.text)
    assert rows == [("created", "2"), ("error", "3"), ("error", "4"), ("created", "5")]
    assert "bad_serial" in answer.text and "unknown hardware family &#39;nope&#39;" in answer.text
    assert counts(answer.text)["created"] == 2 and counts(answer.text)["error"] == 2
    assert counts(client.get("/factory").text, "L1")["registered"] == 2
    again = upload(client, csrf, data)
    assert counts(again.text)["existing"] == 2 and counts(again.text)["created"] == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8: byte 0x89 at offset 0"),
        (b"name,colour\nSN-1,red\n", "missing columns: serial, family, lot"),
        (b"", "file is empty"),
        (b'serial,family,lot\n"SN-1,x,y\n', "line"),
    ],
)
def test_a_file_refused_as_a_whole_says_why_and_imports_nothing(
    line: Platform, client: TestClient, data: bytes, message: str
) -> None:
    csrf = log_in(line, client, "manufacturing")
    answer = upload(client, csrf, data)
    assert answer.status_code == 422
    assert 'id="e-file"' in answer.text and message in answer.text
    assert "nothing was imported" in answer.text
    assert "No devices are registered yet" in client.get("/factory").text


def test_hostile_values_in_a_file_are_shown_as_text(line: Platform, client: TestClient) -> None:
    csrf = log_in(line, client, "manufacturing")
    data = (
        "serial,family,lot,note\n"
        f"SN-1,{FAMILY},<img src=x onerror=alert(1)>,\"=cmd|' /C calc'!A0\"\n"
        "SN-2,<script>alert(2)</script>,L1,\n"
        f"{'S' * 100_000},{FAMILY},L1,\n"
    ).encode()
    answer = upload(client, csrf, data, name="<script>.csv")
    assert answer.status_code == 200
    assert "<script>" not in answer.text and "<img src=x" not in answer.text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in answer.text
    assert "serial number has 100000 characters" in answer.text
    assert len(answer.text) < 50_000  # the long value is not echoed
    lots = client.get("/factory")
    assert "&lt;img src=x onerror=alert(1)&gt;" in lots.text and "<img src" not in lots.text
    device = client.get("/factory/devices/SN-1")
    assert "=cmd|&#39; /C calc&#39;!A0" in device.text


def test_an_upload_over_the_body_limit_is_refused(line: Platform, client: TestClient) -> None:
    csrf = log_in(line, client, "manufacturing")
    form = client.get("/factory/import").text
    assert f'data-max-bytes="{line.settings.max_body_bytes - 2048}"' in form  # checked in JS
    huge = b"serial,family,lot\n" + b"SN-1,x,y\n" * 130_000
    assert upload(client, csrf, huge).status_code == 413
    assert upload(client, csrf, b"", name="").status_code in (400, 422)


def test_releasing_a_lot_needs_a_confirmation_and_lists_the_refusals(
    line: Platform, client: TestClient
) -> None:
    register(line, "LOT-A", "SN-A1", "SN-A2", "SN-A3", enrolled=2)
    csrf = log_in(line, client, "manufacturing")
    unconfirmed = client.post("/factory/lots/LOT-A/release", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 422 and "Tick the box" in unconfirmed.text
    assert counts(client.get("/factory").text, "LOT-A")["released"] == 0
    answer = client.post("/factory/lots/LOT-A/release", data={"csrf_token": csrf, "confirm": "yes"})
    assert answer.status_code == 200
    assert counts(answer.text) == {"released": 2, "already_released": 0, "refused": 1}
    assert "SN-A3" in answer.text and "registered" in answer.text
    assert counts(client.get("/factory").text, "LOT-A")["released"] == 2
    history = client.get("/factory/devices/SN-A1")
    assert "device.release" in history.text and "enrolled → released" in history.text
    assert "device.register" in history.text and "user:" in history.text


def test_one_device_is_released_from_its_page(line: Platform, client: TestClient) -> None:
    register(line, "LOT-A", "SN-A1", "SN-A2", enrolled=1)
    csrf = log_in(line, client, "admin")
    answer = client.post(
        "/factory/devices/SN-A1/release",
        data={"csrf_token": csrf, "confirm": "yes"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert "The device was released to market." in page.text
    assert "can no longer be printed" in page.text
    refused = client.post(
        "/factory/devices/SN-A2/release", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert refused.status_code == 409 and "registered" in refused.text
    assert 'role="alert"' in refused.text


def test_labels_are_real_png_svg_and_pdf_until_release(line: Platform, client: TestClient) -> None:
    register(line, "LOT-A", "SN-A1", "SN-A2", enrolled=1)
    csrf = log_in(line, client, "manufacturing")
    png = client.get("/factory/devices/SN-A1/labels/device.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["content-type"] == "image/png"
    svg = client.get("/factory/devices/sn-a1/labels/packaging.svg")
    assert svg.status_code == 200 and b"<svg" in svg.content[:400]
    pdf = client.get("/factory/lots/LOT-A/labels.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert client.get("/factory/devices/SN-A1/labels/secret.txt").status_code == 404
    assert client.get("/factory/lots/NOPE/labels.pdf").status_code == 404
    client.post("/factory/lots/LOT-A/release", data={"csrf_token": csrf, "confirm": "yes"})
    gone = client.get("/factory/devices/SN-A1/labels/device.png")
    assert gone.status_code == 409 and "can no longer be printed" in gone.text
    assert client.get("/factory/lots/LOT-A/labels.pdf").headers["x-labels-skipped"] == "1"


def test_support_sees_the_factory_but_cannot_act_or_print(
    line: Platform, client: TestClient
) -> None:
    register(line, "LOT-A", "SN-A1", enrolled=1)
    csrf = log_in(line, client, "support")
    lot = client.get("/factory/lots/LOT-A")
    assert lot.status_code == 200 and "SN-A1" in lot.text
    assert "/release" not in lot.text and "labels.pdf" not in lot.text
    device = client.get("/factory/devices/SN-A1")
    assert device.status_code == 200 and "/labels/" not in device.text
    assert 'enctype="multipart/form-data"' not in client.get("/factory/import").text
    for path in ("/factory/devices/SN-A1/labels/device.png", "/factory/lots/LOT-A/labels.pdf"):
        assert client.get(path).status_code == 403, path
    release = client.post(
        "/factory/lots/LOT-A/release", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert release.status_code == 403 and "Not allowed" in release.text
    one = client.post("/factory/devices/SN-A1/release", data={"csrf_token": csrf, "confirm": "yes"})
    assert one.status_code == 403
    assert upload(client, csrf, f"serial,family,lot\nSN-9,{FAMILY},L\n".encode()).status_code == 403
    assert "SN-A1" in client.get("/factory/devices?q=sn-a").text


def test_posts_without_the_csrf_token_are_refused(line: Platform, client: TestClient) -> None:
    register(line, "LOT-A", "SN-A1", enrolled=1)
    log_in(line, client, "manufacturing")
    assert client.post("/factory/lots/LOT-A/release", data={"confirm": "yes"}).status_code == 403
    assert client.post("/factory/devices/SN-A1/release", data={"confirm": "yes"}).status_code == 403
    assert upload(client, None, f"serial,family,lot\nSN-9,{FAMILY},L\n".encode()).status_code == 403
    assert upload(client, "wrong", b"serial,family,lot\n").status_code == 403
    assert "enrolled" in client.get("/factory/devices/SN-A1").text


def test_manufacturing_sees_only_the_factory(platform: Platform) -> None:
    app = create_app(platform=platform)
    probe = APIRouter()

    @probe.get("/probe-fleet-page")
    def fleet_page(_viewer: ReadView) -> str:
        return "fleet"

    app.include_router(probe)
    with TestClient(app) as client:
        log_in(platform, client, "manufacturing")
        landing = client.get("/", follow_redirects=False)
        assert landing.status_code == 303 and landing.headers["location"] == "/factory"
        refused = client.get("/probe-fleet-page")
        assert refused.status_code == 403 and "Not allowed" in refused.text
        assert client.get("/factory").status_code == 200


def test_owners_and_visitors_get_no_factory_page(line: Platform, client: TestClient) -> None:
    assert client.get("/factory", follow_redirects=False).headers["location"] == (
        "/login?next=/factory"
    )
    assert client.post("/factory/import", follow_redirects=False).status_code == 303
    owner = line_headers(line, client, "owner")
    answer = client.get("/factory", headers=owner, follow_redirects=False)
    assert answer.status_code == 303  # a bearer token is no dashboard session


def test_device_search_and_unknown_devices(line: Platform, client: TestClient) -> None:
    register(line, "LOT-A", "SN-A1", "SN-A2", "XY-1")
    log_in(line, client, "manufacturing")
    found = client.get("/factory/devices?q=sn-a")
    assert "SN-A1" in found.text and "SN-A2" in found.text and "XY-1" not in found.text
    by_mac = client.get("/factory/devices?q=02-00-00-00-00-02")
    assert "XY-1" in by_mac.text and "SN-A1</a>" not in by_mac.text
    nothing = client.get("/factory/devices?q=%3Cscript%3E")
    assert nothing.status_code == 200 and "&lt;script&gt;" in nothing.text
    assert client.get("/factory/devices?q=" + "A" * 10_000).status_code == 200
    assert client.get("/factory/devices/NO-SUCH").status_code == 404
    assert client.get("/factory/devices/bad%20serial!").status_code == 404
    page = client.get("/factory/devices/SN-A1")
    assert page.status_code == 200 and "LOT-A" in page.text and "device.register" in page.text
    assert "code_hash" not in page.text and "sealed" not in page.text
