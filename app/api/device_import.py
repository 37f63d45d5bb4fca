"""Bulk registration from the factory's CSV file, with one result per row.

The file comes as the body (``text/csv``) or as the first file of a ``multipart/form-data``
upload. A file refused as a whole (encoding, missing columns, size) registers nothing and is a
422 ``csv-refused`` naming the reason. Otherwise each good row is registered and committed on
its own, so a bad row never blocks or loses a good one, and importing the same file again
answers ``existing`` for every row and changes nothing. No plain security codes are returned:
the labels of an imported lot come from ``GET /api/v1/lots/{lot}/labels.pdf``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app import audit
from app.api.factory import LinePrincipal, secret_keys
from app.deps import ActorDep, PlatformDep
from app.platform import Platform
from app.problems import Problem
from common.clock import utcnow
from enrollment import bulk_import
from enrollment.bulk_import import ImportStatus
from enrollment.csv_import import ParsedImport, parse_factory_csv

router = APIRouter(prefix="/api/v1", tags=["factory line"])


class RowErrorPublic(BaseModel):
    code: str
    message: str


class ImportRow(BaseModel):
    line: int
    serial: str | None = None
    status: ImportStatus
    mac: str | None = None
    error: RowErrorPublic | None = None


class ImportSummary(BaseModel):
    rows: int
    created: int
    existing: int
    duplicate: int
    error: int


class ImportResult(BaseModel):
    summary: ImportSummary
    rows: list[ImportRow]


async def _file_bytes(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.startswith("multipart/"):
        async with request.form() as form:
            for value in form.values():
                if isinstance(value, UploadFile):
                    return await value.read()
        raise Problem(422, "validation-error", "the upload holds no file")
    if content_type not in ("text/csv", "application/octet-stream"):
        raise Problem(415, "unsupported-media-type", "send the file as text/csv or multipart")
    return await request.body()


@router.post(
    "/devices/import",
    summary="Register the devices of a CSV file (manufacturing); one result per row",
)
async def import_devices(
    request: Request, platform: PlatformDep, _line: LinePrincipal, actor: ActorDep
) -> ImportResult:
    data = await _file_bytes(request)
    parsed = parse_factory_csv(data, max_bytes=platform.settings.max_body_bytes)
    result = await run_import(platform, parsed, actor)
    return ImportResult.model_validate(result, from_attributes=True)


async def run_import(
    platform: Platform, parsed: ParsedImport, actor: audit.Actor
) -> bulk_import.ImportResult:
    """Register the rows of a parsed file, row by row, off the event loop (the API's upload
    and the dashboard's share it)."""
    keys = secret_keys(platform.settings)

    def run() -> bulk_import.ImportResult:
        with Session(platform.engine, expire_on_commit=False) as session:
            return bulk_import.import_file(
                session,
                parsed,
                keys=keys,
                actor=actor,
                now=utcnow(),
                audit=audit.record,
                object_type="lot",
            )

    return await run_in_threadpool(run)
