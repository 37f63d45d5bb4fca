"""FTP firmware downloads with a real aioftp client: one login, one file, one window."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import aioftp
import pytest
from sqlmodel import Session, select

from app.platform import Platform
from app.roles import running_ftp
from app.settings import Settings
from common.clock import utcnow
from firmware.download_tables import FirmwareDownloadRow, FtpLoginRow
from firmware.tables import FirmwareImageRow
from tests.eventually import eventually
from tests.firmware.images import add_image, image_bytes, window

SIZE = 700_001
CONTENT = image_bytes(SIZE, seed=5)


@pytest.fixture
async def ftp(platform: Platform) -> AsyncIterator[Platform]:
    platform.settings = platform.settings.model_copy(update={"ftp_port": 0})
    async with running_ftp(platform):
        yield platform


def ftp_location(platform: Platform, image: FirmwareImageRow, **overrides: object) -> str:
    values: dict[str, object] = {
        "image": image,
        "station_id": "WB11-000007",
        "target_id": 77,
        "protocol": "ftp",
        **window(),
    }
    values.update(overrides)
    return platform.downloads.location(**values)  # type: ignore[arg-type]


def client_for(url: str, password: str | None = None) -> aioftp.Client.context:  # type: ignore[name-defined]
    parts = urlsplit(url)
    return aioftp.Client.context(
        parts.hostname, parts.port, parts.username, password or parts.password
    )


async def fetch(url: str, offset: int = 0) -> bytes:
    received = bytearray()
    async with (
        client_for(url) as client,
        client.download_stream(urlsplit(url).path, offset=offset) as stream,
    ):
        async for block in stream.iter_by_block():
            received += block
    return bytes(received)


async def log_rows(platform: Platform, count: int = 1) -> list[FirmwareDownloadRow]:
    def rows() -> list[FirmwareDownloadRow] | None:
        with Session(platform.engine) as session:
            found = list(session.exec(select(FirmwareDownloadRow).order_by(FirmwareDownloadRow.id)))
        return found if len(found) >= count else None

    return await eventually(rows)


async def test_a_station_downloads_its_image_with_its_login(ftp: Platform) -> None:
    image = add_image(ftp, CONTENT, filename="wb11 1.2.0.bin")
    url = ftp_location(ftp, image)
    parts = urlsplit(url)
    assert parts.scheme == "ftp" and parts.port == ftp.downloads.ftp_port
    assert parts.path == "/wb11-1.2.0.bin"
    assert await fetch(url) == CONTENT
    [row] = await log_rows(ftp)
    assert (row.protocol, row.outcome, row.bytes_sent) == ("ftp", "completed", SIZE)
    assert (row.station_id, row.image_id, row.target_id) == ("WB11-000007", image.id, 77)


async def test_the_password_is_stored_hashed_only(ftp: Platform) -> None:
    url = ftp_location(ftp, add_image(ftp, CONTENT))
    parts = urlsplit(url)
    with Session(ftp.engine) as session:
        row = session.get(FtpLoginRow, parts.username)
    assert row is not None and parts.password
    assert parts.password not in row.password_hash and len(row.password_hash) == 64


async def test_a_download_resumes_from_an_offset(ftp: Platform) -> None:
    url = ftp_location(ftp, add_image(ftp, CONTENT))
    assert await fetch(url, offset=123_456) == CONTENT[123_456:]
    [row] = await log_rows(ftp)
    assert (row.range_start, row.range_end, row.bytes_sent) == (123_456, SIZE - 1, SIZE - 123_456)


async def test_every_login_is_its_own(ftp: Platform) -> None:
    image = add_image(ftp, CONTENT)
    first, second = ftp_location(ftp, image), ftp_location(ftp, image)
    assert urlsplit(first).username != urlsplit(second).username
    assert urlsplit(first).password != urlsplit(second).password


async def refused_login(url: str, password: str | None = None) -> None:
    with pytest.raises(aioftp.StatusCodeError) as refused:
        async with client_for(url, password):
            pass
    assert "530" in str(refused.value.received_codes)


async def test_a_wrong_password_is_refused_and_logged(ftp: Platform) -> None:
    url = ftp_location(ftp, add_image(ftp, CONTENT))
    await refused_login(url, "not-the-password-at-all")
    [row] = await log_rows(ftp)
    assert (row.outcome, row.detail, row.station_id) == (
        "login-refused",
        "wrong password",
        "WB11-000007",
    )


async def test_an_unknown_login_is_refused_like_a_wrong_password(ftp: Platform) -> None:
    url = ftp_location(ftp, add_image(ftp, CONTENT))
    parts = urlsplit(url)
    await refused_login(url.replace(parts.username or "", "fw000000000000"))
    await refused_login(url.replace(parts.username or "", "x" * 200))
    rows = await log_rows(ftp, 2)
    assert {row.outcome for row in rows} == {"login-refused"} and rows[0].station_id is None


async def test_an_expired_login_is_refused(ftp: Platform) -> None:
    now = utcnow()
    url = ftp_location(
        ftp,
        add_image(ftp, CONTENT),
        valid_from=now - timedelta(hours=3),
        valid_until=now - timedelta(seconds=1),
    )
    await refused_login(url)
    [row] = await log_rows(ftp)
    assert row.outcome == "expired" and "expired at" in row.detail


async def test_a_login_before_its_window_is_refused(ftp: Platform) -> None:
    now = utcnow()
    url = ftp_location(
        ftp,
        add_image(ftp, CONTENT),
        valid_from=now + timedelta(hours=1),
        valid_until=now + timedelta(hours=2),
    )
    await refused_login(url)
    assert (await log_rows(ftp))[0].outcome == "not-yet-valid"


async def answer(client: aioftp.Client, command: str) -> str:
    """The server's refusal of ``command`` (after PASV, so only the path rules decide).

    Raw commands, because aioftp's client leaves its data socket open when a transfer is
    refused."""
    await client.command("PASV", "227")
    code, info = await client.command(command, "550")
    return f"{code} {' '.join(info)}"


async def test_a_login_reads_nothing_but_its_own_image(ftp: Platform) -> None:
    mine = add_image(ftp, CONTENT, version="1.2.0", filename="mine.bin")
    add_image(ftp, image_bytes(1000, seed=9), version="1.3.0", filename="other.bin")
    url = ftp_location(ftp, mine)
    async with client_for(url) as client:
        listed = [str(path) for path, _info in await client.list("/")]
        assert listed == ["/mine.bin"]
        for path in ("/other.bin", "../other.bin", "/../../etc/passwd", "/1/", "/"):
            assert "550" in await answer(client, f"RETR {path}")
        assert "550" in await answer(client, "LIST /elsewhere")
        assert not await client.exists("/other.bin")


async def test_writes_deletes_and_renames_are_refused(ftp: Platform) -> None:
    image = add_image(ftp, CONTENT, filename="mine.bin")
    url = ftp_location(ftp, image)
    async with client_for(url) as client:
        for command in (
            "STOR /evil.bin",
            "STOR /mine.bin",
            "APPE /mine.bin",
            "MKD /new",
            "DELE /mine.bin",
            "RMD /",
            "RNFR /mine.bin",
        ):
            assert "permission denied" in await answer(client, command), command
    assert await fetch(url) == CONTENT  # the image is untouched


async def test_concurrent_ftp_downloads_each_get_the_image(ftp: Platform) -> None:
    image = add_image(ftp, CONTENT)
    urls = [ftp_location(ftp, image, station_id=f"CP-{n:02d}") for n in range(12)]
    results = await asyncio.gather(*(fetch(url) for url in urls))
    assert all(result == CONTENT for result in results)
    rows = await log_rows(ftp, 12)
    assert {row.outcome for row in rows} == {"completed"}
    assert len({row.station_id for row in rows}) == 12


def test_concurrent_location_requests_each_get_a_distinct_login(platform: Platform) -> None:
    image = add_image(platform, CONTENT)
    with ThreadPoolExecutor(max_workers=16) as pool:
        urls = list(
            pool.map(lambda n: ftp_location(platform, image, station_id=f"CP-{n}"), range(64))
        )
    with Session(platform.engine) as session:
        stored = {row.username for row in session.exec(select(FtpLoginRow))}
    assert stored == {urlsplit(url).username for url in urls} and len(stored) == 64


def test_expired_logins_are_forgotten_and_live_ones_kept(platform: Platform) -> None:
    image = add_image(platform, CONTENT)
    now = utcnow()
    old = ftp_location(
        platform, image, valid_from=now - timedelta(days=3), valid_until=now - timedelta(days=2)
    )
    live = ftp_location(platform, image)
    assert platform.downloads.forget_expired_logins(now - timedelta(days=1)) == 1
    assert platform.downloads.ftp_login(urlsplit(old).username or "") is None
    assert platform.downloads.ftp_login(urlsplit(live).username or "") is not None


async def test_passive_data_ports_come_from_the_configured_range(platform: Platform) -> None:
    first = 41_000 + os.getpid() % 20_000
    platform.settings = platform.settings.model_copy(
        update={"ftp_port": 0, "ftp_passive_ports": f"{first}-{first + 19}"}
    )
    async with running_ftp(platform):
        url = ftp_location(platform, add_image(platform, CONTENT))
        async with client_for(url) as client:
            _code, info = await client.command("PASV", "227")
        numbers = [int(n) for n in info[-1].split("(")[1].rstrip(")").split(",")]
        assert first <= numbers[4] * 256 + numbers[5] <= first + 19
        assert await fetch(url) == CONTENT


@pytest.mark.parametrize("ports", ["9-3", "0-10", "70000-70001", "10", "a-b"])
def test_a_bad_passive_port_range_is_refused_at_start(platform: Platform, ports: str) -> None:
    with pytest.raises(ValueError, match="ftp_passive_ports|FTP_PASSIVE_PORTS"):
        Settings(ftp_passive_ports=ports)
