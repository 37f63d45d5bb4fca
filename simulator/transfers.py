"""A station's file transfers: firmware downloads over HTTPS and FTP, log uploads.

Downloads stream: the station keeps the SHA-256 and the size as the bytes arrive and only the
first ``HEAD_BYTES`` (where the simulated image names its version), so memory does not grow with
the image. A cut connection is resumed where it stopped, with ``Range: bytes=N-`` over HTTP
(RFC 9110 14.2; a 200 answer restarts from zero) and REST over FTP; the size the server
announced (Content-Length, Content-Range) and a ``Repr-Digest``/``Digest`` sha-256 it sent are
checked at the end.
"""

from __future__ import annotations

import base64
import hashlib
import re
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import aioftp
import httpx

HEAD_BYTES = 4096
MAX_RESUMES = 5


class TransferError(Exception):
    """The transfer failed (the station may retry it)."""


@dataclass(slots=True)
class Download:
    """What the station knows of a file it is receiving."""

    sha256: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    head: bytes = b""
    resumes: int = 0
    expected_size: int | None = None
    expected_sha256: bytes | None = None

    def feed(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self.size += len(chunk)

    def restart(self) -> None:
        self.sha256, self.size, self.head = hashlib.sha256(), 0, b""

    @property
    def digest(self) -> bytes:
        return bytes(self.sha256.digest())

    def check(self) -> None:
        """Raises TransferError when the size or digest the server announced does not match."""
        if self.expected_size is not None and self.size != self.expected_size:
            raise TransferError(f"got {self.size} bytes of {self.expected_size}")
        if self.expected_sha256 is not None and self.digest != self.expected_sha256:
            raise TransferError("the file does not match the digest the server sent")


_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_DIGEST = re.compile(r"sha-256=:?([A-Za-z0-9+/=]+):?", re.IGNORECASE)


def _announced_digest(headers: httpx.Headers) -> bytes | None:
    for name in ("repr-digest", "digest"):
        found = _DIGEST.search(headers.get(name, ""))
        if found:
            try:
                return base64.b64decode(found.group(1), validate=True)
            except ValueError:
                return None
    return None


async def _http_part(client: httpx.AsyncClient, url: str, got: Download) -> None:
    headers = {"Range": f"bytes={got.size}-"} if got.size else {}
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 206:
            found = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", ""))
            if found is None or int(found.group(1)) != got.size:
                raise TransferError("the server resumed at the wrong offset")
            if found.group(3) != "*":
                got.expected_size = int(found.group(3))
        elif response.status_code == 200:
            got.restart()
            length = response.headers.get("content-length")
            got.expected_size = int(length) if length and length.isdigit() else None
        else:
            raise TransferError(f"HTTP {response.status_code}")
        got.expected_sha256 = _announced_digest(response.headers) or got.expected_sha256
        async for chunk in response.aiter_raw():
            got.feed(chunk)


async def download_http(
    url: str, *, verify: ssl.SSLContext | bool = True, timeout: float = 30.0
) -> Download:
    """GET ``url``, resuming with Range after a cut connection.

    Raises:
        TransferError: refused, unreachable, cut more than ``MAX_RESUMES`` times, or not the
            size or digest announced.
    """
    got = Download()
    async with httpx.AsyncClient(verify=verify, timeout=timeout) as client:
        while True:
            try:
                await _http_part(client, url, got)
                break
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout) as exc:
                got.resumes += 1
                if got.resumes > MAX_RESUMES:
                    raise TransferError(f"the download broke off: {exc}") from None
            except httpx.HTTPError as exc:
                raise TransferError(f"cannot download {_safe(url)}: {exc}") from None
    got.check()
    return got


@dataclass(frozen=True, slots=True)
class FtpLocation:
    host: str
    port: int
    user: str
    password: str
    path: str


def ftp_location(url: str) -> FtpLocation:
    """``ftp://user:pass@host:port/path`` (percent-encoded parts decoded; anonymous if none)."""
    parts = urlsplit(url)
    if parts.scheme != "ftp" or not parts.hostname:
        raise TransferError(f"not an FTP URL: {_safe(url)}")
    return FtpLocation(
        parts.hostname,
        parts.port or 21,
        unquote(parts.username or "anonymous"),
        unquote(parts.password or "anon@"),
        unquote(parts.path) or "/",
    )


async def download_ftp(url: str, *, timeout: float = 30.0) -> Download:
    """RETR the file, resuming with REST after a cut connection.

    Raises:
        TransferError: wrong credentials, no such file, or cut too often.
    """
    where = ftp_location(url)
    got = Download()
    while True:
        try:
            async with aioftp.Client.context(
                where.host,
                where.port,
                where.user,
                where.password,
                socket_timeout=timeout,
                connection_timeout=timeout,
            ) as client:
                if got.expected_size is None:
                    info = await client.stat(where.path)
                    size = info.get("size")
                    got.expected_size = int(size) if size is not None else None
                async with client.download_stream(where.path, offset=got.size) as stream:
                    async for chunk in stream.iter_by_block():
                        got.feed(chunk)
            break
        except aioftp.StatusCodeError as exc:
            raise TransferError(f"the FTP server refused: {exc.received_codes}") from None
        except (OSError, TimeoutError) as exc:
            got.resumes += 1
            if got.resumes > MAX_RESUMES:
                raise TransferError(f"the FTP download broke off: {exc}") from None
    got.check()
    return got


async def download(
    url: str, *, verify: ssl.SSLContext | bool = True, timeout: float = 30.0
) -> Download:
    """Download over ``https``/``http`` or ``ftp``, by the URL's scheme."""
    scheme = urlsplit(url).scheme
    if scheme in ("https", "http"):
        return await download_http(url, verify=verify, timeout=timeout)
    if scheme == "ftp":
        return await download_ftp(url, timeout=timeout)
    raise TransferError(f"cannot download over {scheme or 'no scheme'}")


async def upload(
    url: str,
    filename: str,
    data: bytes,
    *,
    verify: ssl.SSLContext | bool = True,
    timeout: float = 30.0,
) -> None:
    """Store a log: FTP STOR, or an HTTP(S) multipart POST (field ``file``). A location that
    ends with ``/`` is a directory the file name is appended to (1.6 GetDiagnostics).

    Raises:
        TransferError: the server refused or could not be reached.
    """
    target = url + filename if url.endswith("/") else url
    scheme = urlsplit(url).scheme
    try:
        if scheme == "ftp":
            where = ftp_location(target)
            async with aioftp.Client.context(
                where.host, where.port, where.user, where.password, socket_timeout=timeout
            ) as client:
                # a refused STOR would leave aioftp's data connection open: ask first
                folder = where.path.rsplit("/", 1)[0] or "/"
                if not await client.is_dir(folder):
                    raise TransferError(f"no folder {folder} on the FTP server")
                async with client.upload_stream(where.path) as stream:
                    await stream.write(data)
            return
        if scheme in ("https", "http"):
            async with httpx.AsyncClient(verify=verify, timeout=timeout) as http:
                response = await http.post(target, files={"file": (filename, data)})
            if response.status_code >= 300:
                raise TransferError(f"HTTP {response.status_code}")
            return
    except aioftp.StatusCodeError as exc:
        raise TransferError(f"the FTP server refused: {exc.received_codes}") from None
    except (httpx.HTTPError, OSError, TimeoutError) as exc:
        raise TransferError(f"cannot upload to {_safe(url)}: {exc}") from None
    raise TransferError(f"cannot upload over {scheme or 'no scheme'}")


def _safe(url: str) -> str:
    """``url`` without its credentials or query (signed URLs carry secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
