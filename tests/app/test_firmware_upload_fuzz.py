"""Hostile upload bodies: random bytes and valid forms cut anywhere are refused with a
problem (never a 500) and leave no row and no file behind."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.platform import Platform
from tests.factories import admin_headers
from tests.firmware.uploads import image_count, ready, stored_files

BOUNDARY = "fuzzBoundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _form(image: bytes) -> bytes:
    parts = [("family", b"wallbox"), ("version", b"1.0.0"), ("unsigned", b"true")]
    body = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in parts
    )
    body += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'
    ).encode()
    return body + image + f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def admin(platform: Platform, client: TestClient) -> dict[str, str]:
    ready(platform)
    return admin_headers(platform, client)


FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(body=st.binary(max_size=2000))
def test_random_bodies_are_refused_cleanly(
    platform: Platform, client: TestClient, admin: dict[str, str], body: bytes
) -> None:
    response = client.post(
        "/api/v1/firmware/images", content=body, headers={**admin, "Content-Type": CONTENT_TYPE}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert image_count(platform) == 0 and stored_files(platform) == []


@FUZZ
@given(image=st.binary(min_size=1, max_size=5000), data=st.data())
def test_a_form_cut_anywhere_is_refused_and_stores_nothing(
    platform: Platform,
    client: TestClient,
    admin: dict[str, str],
    image: bytes,
    data: st.DataObject,
) -> None:
    full = _form(image)
    cut = data.draw(st.integers(min_value=0, max_value=len(full) - len(BOUNDARY) - 5))
    response = client.post(
        "/api/v1/firmware/images",
        content=full[:cut],
        headers={**admin, "Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 422, response.text
    assert image_count(platform) == 0 and stored_files(platform) == []


def test_the_whole_form_is_accepted(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/firmware/images",
        content=_form(b"firmware"),
        headers={**admin, "Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 201, response.text
    assert image_count(platform) == 1 and len(stored_files(platform)) == 1
