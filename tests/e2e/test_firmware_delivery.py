"""The running platform delivers firmware over HTTPS and FTP from the locations it issues."""

from __future__ import annotations

from urllib.parse import urlsplit

import aioftp
import httpx
from sqlmodel import Session, select

from firmware.download_tables import FirmwareDownloadRow
from tests.e2e.conftest import RunningPlatform
from tests.e2e.http import TIMEOUT
from tests.eventually import eventually
from tests.firmware.images import add_image, image_bytes, window

CONTENT = image_bytes(1_500_000, seed=11)


async def test_a_station_fetches_its_image_over_https_and_ftp(running: RunningPlatform) -> None:
    platform = running.platform
    image = add_image(platform, CONTENT)
    https = platform.downloads.location(
        image=image,
        station_id="CP-1",
        target_id=5,
        protocol="https",
        **window(),  # type: ignore[arg-type]
    )
    assert https.startswith(f"{running.api_url}/fw/")
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        first = await client.get(https, headers={"Range": "bytes=0-499999"})
        rest = await client.get(https, headers={"Range": "bytes=500000-"})
    assert first.status_code == rest.status_code == 206
    assert first.content + rest.content == CONTENT

    ftp = platform.downloads.location(
        image=image,
        station_id="CP-2",
        target_id=6,
        protocol="ftp",
        **window(),  # type: ignore[arg-type]
    )
    parts = urlsplit(ftp)
    assert parts.port == running.ftp_port
    received = bytearray()
    async with (
        aioftp.Client.context(parts.hostname, parts.port, parts.username, parts.password) as c,
        c.download_stream(parts.path) as stream,
    ):
        async for block in stream.iter_by_block():
            received += block
    assert bytes(received) == CONTENT

    def logged() -> list[tuple[str | None, str, str, int]] | None:
        with Session(platform.engine) as session:
            rows = session.exec(select(FirmwareDownloadRow).order_by(FirmwareDownloadRow.id))
            found = [(r.station_id, r.protocol, r.outcome, r.bytes_sent) for r in rows]
        return found if len(found) == 3 else None

    assert sorted(await eventually(logged)) == [
        ("CP-1", "https", "completed", 500_000),
        ("CP-1", "https", "completed", 1_000_000),
        ("CP-2", "ftp", "completed", 1_500_000),
    ]
