"""Images in S3: the station's short platform URL answers 302 to a presigned S3 URL."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
from moto import mock_aws
from sqlmodel import Session, select

from app.platform import Platform
from firmware.download_tables import FirmwareDownloadRow
from firmware.downloads import MAX_LOCATION
from tests.eventually import eventually_sync
from tests.firmware.images import (
    add_image,
    clear_aws_profile,
    image_bytes,
    s3_store,
    session_credentials,
    window,
)
from tests.live import LiveServer

CONTENT = image_bytes(300_000, seed=3)


@pytest.fixture
def s3_platform(
    platform: Platform, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Platform]:
    clear_aws_profile()
    for name, value in session_credentials().items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        platform.artifacts = s3_store("chargeline-firmware")
        platform.downloads.public_url = live_server.url
        yield platform


def test_an_s3_image_is_redirected_to_a_presigned_url_too_long_for_ocpp(
    s3_platform: Platform,
) -> None:
    image = add_image(s3_platform, CONTENT)
    location = s3_platform.downloads.location(
        image=image,
        station_id="S" * 48,
        target_id=9,
        protocol="https",
        **window(),  # type: ignore[arg-type]
    )
    assert len(location) <= MAX_LOCATION

    response = httpx.get(location, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["cache-control"] == "no-store"
    presigned = response.headers["location"]
    assert len(presigned) > 1000 > MAX_LOCATION  # why stations get the short platform URL
    query = parse_qs(urlsplit(presigned).query)
    assert query["X-Amz-Security-Token"] == [session_credentials()["AWS_SESSION_TOKEN"]]
    assert int(query["X-Amz-Expires"][0]) <= 900
    assert urlsplit(presigned).path.endswith(image.storage_key)

    fetched = requests.get(presigned, timeout=10)  # moto answers for S3
    assert fetched.status_code == 200 and fetched.content == CONTENT

    def logged() -> list[FirmwareDownloadRow]:
        with Session(s3_platform.engine) as session:
            return list(session.exec(select(FirmwareDownloadRow)))

    [row] = eventually_sync(logged)
    assert (row.outcome, row.station_id, row.target_id) == ("redirected", "S" * 48, 9)
