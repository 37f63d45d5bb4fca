# ruff: noqa: ARG002 - aioftp's PathIO interface: the refusing methods ignore their arguments
"""The FTP firmware server (aioftp): one login per download, one read-only file per login.

Many stations only speak FTP. ``DownloadLinks.location(protocol="ftp")`` makes a user/password
pair for one station and one image; this server lets that login in only in its window and
shows it a virtual root holding exactly its image (streamed from the artifact store, so S3
images work too). Writes, deletes, renames and other paths are refused; every transfer and
every refused login is logged in ``firmware_downloads``. Unknown users are asked for a
password like known ones, so the server does not tell which logins exist.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import stat
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aioftp
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.platform import Platform
from common.clock import utcnow
from firmware.download_links import FtpLogin
from firmware.download_log import DownloadRecord, record_download
from firmware.downloads import DownloadError, LinkExpired, check_window, safe_file_name
from firmware.storage import ArtifactStore
from firmware.tables import FirmwareImageRow

log = logging.getLogger(__name__)

ROOT = Path("/download")
"""The virtual root each login sees as ``/``; nothing is ever read from this path on disk."""

BLOCK = 64 * 1024


class DownloadUser(aioftp.User):
    """A login's view: the one file it may read, or (``login`` None) nothing at all."""

    def __init__(
        self,
        username: str,
        login: FtpLogin | None = None,
        image: FirmwareImageRow | None = None,
        store: ArtifactStore | None = None,
        engine: Engine | None = None,
    ) -> None:
        super().__init__(
            username,
            None,
            base_path=ROOT,
            home_path="/",
            permissions=[aioftp.Permission("/", readable=True, writable=False)],
            maximum_connections=4,
        )
        self.login: FtpLogin | None = login  # type: ignore[assignment]
        self.image = image
        self.store = store
        self.engine = engine
        name = safe_file_name(image.filename, image.version) if image else "-"
        self.file = ROOT / name


class DownloadUsers(aioftp.AbstractUserManager):
    """Looks logins up in the database and checks password and window on ``PASS``."""

    def __init__(self, platform: Platform) -> None:
        super().__init__()
        self.platform = platform

    async def _log(self, outcome: str, detail: str, login: FtpLogin | None = None) -> None:
        record = DownloadRecord(
            protocol="ftp", outcome=outcome, grant=login.grant if login else None, detail=detail
        )
        await asyncio.to_thread(record_download, self.platform.engine, record)

    async def get_user(
        self, login: str
    ) -> tuple[aioftp.AbstractUserManager.GetUserResponse, aioftp.User | None, str]:
        found = await asyncio.to_thread(self.platform.downloads.ftp_login, login)
        image = None
        if found is not None:
            image = await asyncio.to_thread(_image, self.platform, found.grant.image_id)
        store = self.platform.artifacts if image else None
        user = DownloadUser(login[:32], found, image, store, self.platform.engine)
        return self.GetUserResponse.PASSWORD_REQUIRED, user, "password required"

    async def authenticate(self, user: aioftp.User, password: str) -> bool:
        assert isinstance(user, DownloadUser)
        login = user.login
        if login is None or user.image is None:
            await self._log("login-refused", f"unknown login {user.login!r}")
            return False
        if not self.platform.downloads.password_matches(login, password):
            await self._log("login-refused", "wrong password", login)
            return False
        try:
            check_window(login.grant, utcnow())
        except DownloadError as refused:
            outcome = "expired" if isinstance(refused, LinkExpired) else "not-yet-valid"
            await self._log(outcome, str(refused), login)
            return False
        return True


def _image(platform: Platform, image_id: int) -> FirmwareImageRow | None:
    with Session(platform.engine) as session:
        return session.get(FirmwareImageRow, image_id)


@dataclass
class _Reader:
    """An open download: where it starts (``REST``), what has been read so far."""

    user: DownloadUser
    offset: int = 0
    sent: int = 0
    chunks: Iterator[bytes] | None = field(default=None, repr=False)


class DownloadPathIO(aioftp.AbstractPathIO[Path]):
    """A read-only virtual tree per connection: ``/`` and the login's image file."""

    def _user(self) -> DownloadUser:
        assert self.connection is not None
        user = self.connection.user
        assert isinstance(user, DownloadUser)
        return user

    async def exists(self, path: Path) -> bool:
        return path in (ROOT, self._user().file)

    async def is_dir(self, path: Path) -> bool:
        return path == ROOT

    async def is_file(self, path: Path) -> bool:
        return path == self._user().file and self._user().image is not None

    async def mkdir(self, path: Path, *, parents: bool = False, exist_ok: bool = False) -> None:
        raise aioftp.PathIOError(reason=None)

    async def rmdir(self, path: Path) -> None:
        raise aioftp.PathIOError(reason=None)

    async def unlink(self, path: Path) -> None:
        raise aioftp.PathIOError(reason=None)

    async def rename(self, source: Path, destination: Path) -> Path:
        raise aioftp.PathIOError(reason=None)

    def list(self, path: Path) -> AsyncIterator[Path]:
        return self._list(path)

    async def _list(self, path: Path) -> AsyncIterator[Path]:
        if path == ROOT and self._user().image is not None:
            yield self._user().file

    async def stat(self, path: Path) -> os.stat_result:
        image = self._user().image
        when = int((image.created_at if image else utcnow()).timestamp())
        if path == ROOT or image is None:
            return os.stat_result((stat.S_IFDIR | 0o555, 0, 0, 2, 0, 0, 0, when, when, when))
        return os.stat_result((stat.S_IFREG | 0o444, 0, 0, 1, 0, 0, image.size, when, when, when))

    async def _open(self, path: Path, mode: str) -> Any:
        user = self._user()
        if mode != "rb" or path != user.file or user.image is None:
            raise aioftp.PathIOError(reason=None)
        return _Reader(user)

    async def seek(self, file: Any, offset: int, whence: int = os.SEEK_SET) -> int:
        assert isinstance(file, _Reader) and whence == os.SEEK_SET and file.chunks is None
        file.offset = max(0, offset)
        return file.offset

    async def write(self, file: Any, data: bytes) -> int:
        raise aioftp.PathIOError(reason=None)

    async def read(self, file: Any, block_size: int = -1) -> bytes:
        assert isinstance(file, _Reader)
        user = file.user
        assert user.image is not None and user.store is not None
        if file.chunks is None:
            file.chunks = await asyncio.to_thread(
                user.store.read, user.image.storage_key, file.offset
            )
        chunk: bytes = await asyncio.to_thread(next, file.chunks, b"")
        file.sent += len(chunk)
        return chunk

    async def close(self, file: Any) -> None:
        assert isinstance(file, _Reader)
        close = getattr(file.chunks, "close", None)
        if close is not None:
            close()  # the store's file, also when the client left early
        user = file.user
        assert user.image is not None and user.login is not None
        done = file.offset + file.sent >= user.image.size
        record = DownloadRecord(
            protocol="ftp",
            outcome="completed" if done else "interrupted",
            grant=user.login.grant,
            range_start=file.offset if file.offset else None,
            range_end=file.offset + file.sent - 1 if file.offset else None,
            bytes_sent=file.sent,
        )
        assert user.engine is not None
        await asyncio.to_thread(record_download, user.engine, record)


def _ipv4(host: str | None) -> str | None:
    """The address PASV answers with behind NAT (aioftp takes only an IPv4 literal)."""
    if host is None:
        return None
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        return None


def ftp_server(platform: Platform) -> aioftp.Server:
    """The FTP server for ``platform``'s downloads, not yet listening (see ``running_ftp``)."""
    settings = platform.settings
    return aioftp.Server(
        DownloadUsers(platform),
        path_io_factory=DownloadPathIO,
        block_size=BLOCK,
        data_ports=settings.ftp_data_ports,
        ipv4_pasv_forced_response_address=_ipv4(settings.ftp_public_host),
        idle_timeout=120,
        socket_timeout=60,
    )
