"""``GET``/``HEAD /fw/{token}``: firmware images for stations, guarded by the signed token.

Public (stations hold no API token): the token in the path is the grant. The image streams in
chunks from the artifact store (memory does not grow with its size), honours one ``Range``
(206, resumable, ``If-Range`` against the sha256 ETag), or answers 302 to a presigned
object-store URL when the image lives in S3 (such URLs are over 1,000 characters: too long for
OCPP's 512-character ``location``, hence the short platform URL in front). Every answer,
refusals included, is logged in ``firmware_downloads``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlmodel import Session
from starlette.concurrency import iterate_in_threadpool
from starlette.types import Receive, Scope, Send

from app.byte_ranges import ByteRange, RangeRefused, if_range_allows, parse_range
from app.deps import PlatformDep, client_address
from app.platform import Platform
from app.problems import Problem, not_found
from common.clock import utcnow
from firmware.download_log import DownloadRecord, record_download
from firmware.downloads import (
    DownloadError,
    DownloadGrant,
    LinkExpired,
    LinkNotYetValid,
    check_window,
    safe_file_name,
)
from firmware.storage import ArtifactMissing
from firmware.tables import FirmwareImageRow

router = APIRouter(tags=["firmware downloads"])

PRESIGNED_MAX_S = 900
"""A redirect's presigned URL lives at most this long; a resuming station asks us again."""


def _outcome(error: DownloadError) -> str:
    if isinstance(error, LinkExpired):
        return "expired"
    if isinstance(error, LinkNotYetValid):
        return "not-yet-valid"
    return "forged"


class _Log:
    """The record of one request, written once (off the event loop) when it is known."""

    def __init__(self, platform: Platform, request: Request) -> None:
        self.platform = platform
        self.address = client_address(request)
        self.grant: DownloadGrant | None = None
        self.span: ByteRange | None = None

    async def write(self, outcome: str, *, sent: int = 0, detail: str = "") -> None:
        record = DownloadRecord(
            protocol="https",
            outcome=outcome,
            grant=self.grant,
            range_start=self.span.start if self.span else None,
            range_end=self.span.end if self.span else None,
            bytes_sent=sent,
            detail=detail,
            client_address=self.address,
        )
        await asyncio.to_thread(record_download, self.platform.engine, record)


class _LoggedStream(StreamingResponse):
    """Streams the chunks and logs how many bytes went out, also when the client leaves."""

    def __init__(
        self, chunks: Iterator[bytes], log: _Log, expected: int, headers: dict[str, str]
    ) -> None:
        self.sent = 0
        self.expected = expected
        self.chunks = chunks
        self.log = log
        super().__init__(
            self._counted(chunks),
            status_code=206 if log.span else 200,
            headers=headers,
            media_type="application/octet-stream",
        )

    async def _counted(self, chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk
            self.sent += len(chunk)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            _close(self.chunks)  # a client that left: the store's file is closed now
            done = self.sent >= self.expected
            await self.log.write("completed" if done else "interrupted", sent=self.sent)


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def _image(platform: Platform, image_id: int) -> FirmwareImageRow | None:
    with Session(platform.engine) as session:
        return session.get(FirmwareImageRow, image_id)


def _headers(image: FirmwareImageRow, etag: str, modified: datetime) -> dict[str, str]:
    name = safe_file_name(image.filename, image.version)
    return {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-transform",
    }


async def _serve(token: str, request: Request, platform: Platform, *, head: bool) -> Response:
    log = _Log(platform, request)
    now = utcnow()
    try:
        log.grant = platform.downloads.decode(token)
        check_window(log.grant, now)
    except DownloadError as refused:
        await log.write(_outcome(refused), detail=str(refused))
        raise
    grant = log.grant
    image = await asyncio.to_thread(_image, platform, grant.image_id)
    if image is None:
        await log.write("image-missing", detail="no such image")
        raise not_found("firmware image")
    store = platform.artifacts
    left = int((grant.valid_until - now).total_seconds())
    expires_in = max(60, min(left, PRESIGNED_MAX_S))
    presigned = await asyncio.to_thread(
        store.presigned_url, image.storage_key, expires_in=expires_in
    )
    if presigned is not None:
        await log.write("redirected")
        return RedirectResponse(presigned, status_code=302, headers={"Cache-Control": "no-store"})

    etag = f'"{image.sha256}"'
    modified = image.created_at.astimezone(UTC).replace(microsecond=0)
    headers = _headers(image, etag, modified)
    wanted = request.headers.get("range")
    if wanted is not None and if_range_allows(
        request.headers.get("if-range"), etag=etag, last_modified=modified
    ):
        try:
            log.span = parse_range(wanted, image.size)
        except RangeRefused as refused:
            await log.write("range-refused", detail=f"{wanted[:100]}: {refused}")
            raise Problem(
                416,
                "range-not-satisfiable",
                str(refused),
                headers={"Content-Range": f"bytes */{image.size}"},
            ) from None
    span = log.span
    length = span.length if span else image.size
    headers["Content-Length"] = str(length)
    if span is not None:
        headers["Content-Range"] = span.content_range(image.size)
    if head:
        await log.write("head")
        return Response(status_code=206 if span else 200, headers=headers)
    start, end = (span.start, span.end + 1) if span else (0, image.size)
    try:
        chunks = await asyncio.to_thread(store.read, image.storage_key, start, end)
    except ArtifactMissing:
        await log.write("image-missing", detail="the image's file is missing from the store")
        raise not_found("firmware image file") from None
    return _LoggedStream(chunks, log, length, headers)


@router.get("/fw/{token}", response_model=None, summary="Download a firmware image (stations)")
async def download_image(token: str, request: Request, platform: PlatformDep) -> Response:
    return await _serve(token, request, platform, head=False)


@router.head("/fw/{token}", response_model=None, summary="Size and ETag of a firmware download")
async def head_image(token: str, request: Request, platform: PlatformDep) -> Response:
    return await _serve(token, request, platform, head=True)
