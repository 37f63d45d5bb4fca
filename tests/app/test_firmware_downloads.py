"""HTTPS firmware downloads over a real socket: Range, If-Range, HEAD, expiry, refusals, the log."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, select

from app.platform import Platform
from common.clock import utcnow
from firmware.download_tables import FirmwareDownloadRow
from firmware.downloads import MAX_LOCATION, LocationTooLong
from firmware.storage import LocalArtifactStore
from firmware.tables import FirmwareImageRow
from tests.e2e.http import TIMEOUT
from tests.eventually import eventually_sync
from tests.firmware.images import add_image, image_bytes, window
from tests.live import LiveServer
from tests.problems import assert_problem

SIZE = 3 * 1024 * 1024 + 17  # a few chunks and an odd tail
CONTENT = image_bytes(SIZE)


@pytest.fixture
def links(platform: Platform, live_server: LiveServer) -> Iterator[Platform]:
    platform.downloads.public_url = live_server.url
    yield platform


def log_rows(platform: Platform, count: int = 1) -> list[FirmwareDownloadRow]:
    """The download log once it holds ``count`` rows (a streamed answer is logged just after
    its last byte, so the client may be first)."""

    def rows() -> list[FirmwareDownloadRow] | None:
        with Session(platform.engine) as session:
            found = session.exec(select(FirmwareDownloadRow).order_by(FirmwareDownloadRow.id))
            listed = list(found)
        return listed if len(listed) >= count else None

    return eventually_sync(rows)


def location(platform: Platform, image_id: int, **overrides: object) -> str:
    with Session(platform.engine) as session:
        image = session.get(FirmwareImageRow, image_id)
    assert image is not None
    values: dict[str, object] = {
        "image": image,
        "station_id": "WB11-000001",
        "target_id": 31,
        "protocol": "https",
        **window(),
    }
    values.update(overrides)
    return platform.downloads.location(**values)  # type: ignore[arg-type]


def test_a_station_downloads_the_whole_image(links: Platform) -> None:
    image = add_image(links, CONTENT)
    url = location(links, image.id)  # type: ignore[arg-type]
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{hashlib.sha256(CONTENT).hexdigest()}"'
    assert 'filename="wb11-1.2.0.bin"' in response.headers["content-disposition"]
    [row] = log_rows(links)
    assert (row.station_id, row.image_id, row.target_id, row.protocol) == (
        "WB11-000001",
        image.id,
        31,
        "https",
    )
    assert (row.outcome, row.bytes_sent, row.range_start) == ("completed", SIZE, None)


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1048576-", 1048576, SIZE - 1),
        ("bytes=-17", SIZE - 17, SIZE - 1),
    ],
)
def test_a_range_answers_206_with_exactly_those_bytes(
    links: Platform, header: str, start: int, end: int
) -> None:
    image = add_image(links, CONTENT)
    response = httpx.get(location(links, image.id), headers={"Range": header})  # type: ignore[arg-type]
    assert response.status_code == 206
    assert response.content == CONTENT[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{SIZE}"
    assert response.headers["content-length"] == str(end - start + 1)
    [row] = log_rows(links)
    assert (row.range_start, row.range_end, row.bytes_sent, row.outcome) == (
        start,
        end,
        end - start + 1,
        "completed",
    )


def test_a_cut_download_resumes_where_it_stopped(links: Platform) -> None:
    image = add_image(links, CONTENT)
    url = location(links, image.id)  # type: ignore[arg-type]
    received = bytearray()
    with httpx.stream("GET", url) as response:
        etag = response.headers["etag"]
        for chunk in response.iter_bytes(64 * 1024):
            received += chunk
            if len(received) >= SIZE // 3:
                break  # the connection drops
    with httpx.Client(timeout=TIMEOUT) as client:
        rest = client.get(url, headers={"Range": f"bytes={len(received)}-", "If-Range": etag})
    assert rest.status_code == 206
    assert bytes(received) + rest.content == CONTENT
    rows = log_rows(links, 2)
    [cut] = [row for row in rows if row.outcome == "interrupted"]
    assert 0 < cut.bytes_sent < SIZE
    [resumed] = [row for row in rows if row.outcome == "completed"]
    assert resumed.range_start == len(received) and resumed.bytes_sent == SIZE - len(received)


def test_if_range_with_another_etag_sends_the_whole_new_image(links: Platform) -> None:
    image = add_image(links, CONTENT)
    response = httpx.get(
        location(links, image.id),  # type: ignore[arg-type]
        headers={"Range": "bytes=100-", "If-Range": '"an-older-image"'},
    )
    assert response.status_code == 200
    assert response.content == CONTENT


def test_head_tells_size_and_etag_without_a_body(links: Platform) -> None:
    image = add_image(links, CONTENT)
    url = location(links, image.id)  # type: ignore[arg-type]
    response = httpx.head(url)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["etag"] == f'"{image.sha256}"'
    ranged = httpx.head(url, headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206
    assert ranged.headers["content-range"] == f"bytes 10-19/{SIZE}"
    assert [row.outcome for row in log_rows(links, 2)] == ["head", "head"]


@pytest.mark.parametrize(
    "header", ["bytes=0-1,5-9", "bytes=abc", f"bytes={SIZE}-", "bytes=9-3", "lines=1-2"]
)
def test_a_bad_range_is_refused_with_416_and_the_size(links: Platform, header: str) -> None:
    image = add_image(links, CONTENT)
    response = httpx.get(location(links, image.id), headers={"Range": header})  # type: ignore[arg-type]
    assert_problem(response, 416, "range-not-satisfiable")
    assert response.headers["content-range"] == f"bytes */{SIZE}"
    [row] = log_rows(links)
    assert row.outcome == "range-refused" and row.bytes_sent == 0


def test_a_link_reused_after_its_window_is_refused_as_expired(links: Platform) -> None:
    image = add_image(links, CONTENT)
    now = utcnow()
    url = location(
        links,
        image.id,  # type: ignore[arg-type]
        valid_from=now - timedelta(hours=2),
        valid_until=now - timedelta(seconds=5),
    )
    body = assert_problem(httpx.get(url), 410, "download-link-expired")
    assert "expired at" in str(body["detail"]) and "new update request" in str(body["detail"])
    [row] = log_rows(links)
    assert (row.outcome, row.station_id, row.target_id) == ("expired", "WB11-000001", 31)


def test_a_link_used_before_its_retrieve_time_is_refused(links: Platform) -> None:
    image = add_image(links, CONTENT)
    now = utcnow()
    url = location(
        links,
        image.id,  # type: ignore[arg-type]
        valid_from=now + timedelta(hours=1),
        valid_until=now + timedelta(hours=2),
    )
    body = assert_problem(httpx.get(url), 403, "download-link-not-yet-valid")
    assert "valid from" in str(body["detail"])
    assert log_rows(links)[0].outcome == "not-yet-valid"


@pytest.mark.parametrize("tail", ["AAAA", "x" * 300, "%00", "..%2F..%2Fetc%2Fpasswd"])
def test_forged_and_altered_links_are_refused(links: Platform, tail: str) -> None:
    image = add_image(links, CONTENT)
    url = location(links, image.id)  # type: ignore[arg-type]
    altered = url[:-6] + ("A" if url[-6] != "A" else "B") + url[-5:]
    assert_problem(httpx.get(altered), 403, "download-link-invalid")
    response = httpx.get(f"{links.downloads.public_url}/fw/{tail}")
    assert response.status_code in (403, 404)
    if response.status_code == 403:
        assert_problem(response, 403, "download-link-invalid")
    rows = log_rows(links)
    assert rows[0].outcome == "forged" and rows[0].station_id is None


def test_an_image_gone_from_the_store_is_404(links: Platform) -> None:
    image = add_image(links, CONTENT)
    links.artifacts.delete(image.storage_key)
    assert_problem(httpx.get(location(links, image.id)), 404, "not-found")  # type: ignore[arg-type]
    assert log_rows(links)[0].outcome == "image-missing"


def test_locations_fit_ocpp_512_characters_with_a_long_base_and_station_id(
    links: Platform,
) -> None:
    image = add_image(links, CONTENT, filename="f" * 250 + ".bin")
    links.downloads.public_url = "https://" + "firmware-downloads." * 10 + "example.com/cpo/a"
    assert len(links.downloads.public_url) > 200
    https = location(links, image.id, station_id="S" * 48, target_id=2**62)  # type: ignore[arg-type]
    assert len(https) <= MAX_LOCATION
    links.downloads.ftp_host = "ftp." + "x" * 200 + ".example.com"
    ftp = location(links, image.id, station_id="S" * 48, protocol="ftp")  # type: ignore[arg-type]
    assert len(ftp) <= MAX_LOCATION
    links.downloads.public_url = "https://" + "x" * 400 + ".example.com"
    with pytest.raises(LocationTooLong, match="OCPP allows 512"):
        location(links, image.id, station_id="S" * 48)  # type: ignore[arg-type]


async def test_concurrent_ranged_downloads_each_get_their_bytes(links: Platform) -> None:
    image = add_image(links, CONTENT)
    part = SIZE // 4 + 1

    async def fetch(client: httpx.AsyncClient, station: int) -> bytes:
        url = location(links, image.id, station_id=f"CP-{station:03d}")  # type: ignore[arg-type]
        pieces = []
        for start in range(0, SIZE, part):
            end = min(start + part, SIZE) - 1
            response = await client.get(url, headers={"Range": f"bytes={start}-{end}"})
            assert response.status_code == 206
            pieces.append(response.content)
        return b"".join(pieces)

    async with httpx.AsyncClient(
        limits=httpx.Limits(max_connections=40), timeout=TIMEOUT
    ) as client:
        results = await asyncio.gather(*(fetch(client, n) for n in range(40)))
    assert all(result == CONTENT for result in results)
    rows = log_rows(links, 160)
    assert len(rows) == 160 and {row.outcome for row in rows} == {"completed"}
    assert len({row.station_id for row in rows}) == 40


class CountingStore:
    """The local store, counting the bytes the server has pulled from it."""

    def __init__(self, inner: LocalArtifactStore) -> None:
        self.inner = inner
        self.pulled = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        for chunk in self.inner.read(key, start, end):
            self.pulled += len(chunk)
            yield chunk


def test_the_image_streams_so_a_client_that_stops_early_costs_only_what_it_read(
    links: Platform,
) -> None:
    big = image_bytes(48 * 1024 * 1024, seed=8)
    image = add_image(links, big)
    store = CountingStore(links.artifacts)  # type: ignore[arg-type]
    links.artifacts = store  # type: ignore[attr-defined]
    with httpx.stream("GET", location(links, image.id)) as response:  # type: ignore[arg-type]
        first = next(response.iter_raw(64 * 1024))
    assert first == big[: len(first)]
    [row] = log_rows(links)
    assert row.outcome == "interrupted"
    assert store.pulled < 16 * 1024 * 1024  # socket buffers, not the 48 MiB image
    assert row.bytes_sent <= store.pulled
