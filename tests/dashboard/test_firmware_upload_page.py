"""Uploading an image from the dashboard: streamed under the firmware limit, signed by the
platform, refusals shown on their field, and only an admin's form with its CSRF token counts."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.platform import Platform, build_platform
from tests.conftest import make_settings
from tests.dashboard.pages import log_in
from tests.firmware.uploads import image_count, ready, stored_files

BIG = bytes(range(256)) * (3 * 4096)  # 3 MiB: three times the 1 MiB limit of other routes


def post(client: TestClient, csrf: str | None, data: bytes = b"firmware!", **fields: str):  # type: ignore[no-untyped-def]
    form = {"family": "wallbox", "version": "1.0.0", "signing": "platform", **fields}
    if csrf is not None:
        form["csrf_token"] = csrf
    return client.post(
        "/firmware/images/new",
        data=form,
        files={"file": ("fw.bin", data)},
        follow_redirects=False,
    )


def test_an_admin_uploads_a_large_image_the_platform_signs(
    platform: Platform, client: TestClient
) -> None:
    ready(platform)
    csrf = log_in(platform, client, "admin")
    page = client.get("/firmware/images/new")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    answer = post(client, csrf, BIG, notes="first <b>release</b>")
    assert answer.status_code == 303, answer.text
    shown = client.get(answer.headers["location"])
    assert "The image is verified and stored." in shown.text
    assert f"{len(BIG)} bytes" in shown.text and "&lt;b&gt;release&lt;/b&gt;" in shown.text
    assert '<span class="badge ok">signed</span>' in shown.text
    assert image_count(platform) == 1


def test_refusals_are_shown_on_their_field_and_store_nothing(
    platform: Platform, client: TestClient
) -> None:
    ready(platform)
    csrf = log_in(platform, client, "admin")
    cases = [
        ({"version": "<script>x</script>"}, b"x", "e-version", "a version is a semantic"),
        ({"family": "nope"}, b"x", "e-family", "no hardware family"),
        ({"sha256": "0" * 64}, b"x", "e-sha256", "is not that of the received"),
        ({}, b"", "e-file", "the image is empty"),
        ({"signing": "provided", "signature": "bm9wZQ=="}, b"x", "e-certificate", "needs its"),
        (
            {"signing": "provided", "signature": "bm9wZQ==", "certificate": "junk"},
            b"x",
            "e-signature",
            "certificate",
        ),
    ]
    for fields, data, element, message in cases:
        answer = post(client, csrf, data, **fields)
        assert answer.status_code == 422, (fields, answer.text)
        assert f'id="{element}' in answer.text and message in answer.text, fields
        assert "<script>x" not in answer.text
    assert image_count(platform) == 0 and stored_files(platform) == []
    assert post(client, csrf).status_code == 303
    again = post(client, csrf)
    assert again.status_code == 422 and "already has firmware" in again.text


def test_only_an_admin_form_with_its_token_uploads(platform: Platform, client: TestClient) -> None:
    ready(platform)
    csrf = log_in(platform, client, "admin")
    assert post(client, None).status_code == 403
    assert post(client, "wrong").status_code == 403
    client.cookies.clear()
    support = log_in(platform, client, "support")
    page = client.get("/firmware/images/new")
    assert page.status_code == 200 and "Only an admin can upload firmware." in page.text
    assert post(client, support).status_code == 403
    assert image_count(platform) == 0 and stored_files(platform) == []
    assert csrf != support


def test_the_firmware_limit_applies_while_streaming(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, firmware_max_bytes=64 * 1024)
    platform = build_platform(settings)
    try:
        with TestClient(create_app(platform=platform)) as client:
            ready(platform)
            csrf = log_in(platform, client, "admin")
            over = post(client, csrf, b"x" * (64 * 1024 + 1))
            assert over.status_code == 413
            assert 'id="e-file"' in over.text and "65536 bytes" in over.text
            assert image_count(platform) == 0 and stored_files(platform) == []
    finally:
        platform.close()
