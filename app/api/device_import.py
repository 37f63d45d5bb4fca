"""Bulk registration from the factory's CSV file, with one result per row.

The file comes as the body (``text/csv``) or as the first file of a ``multipart/form-data``
upload. A file refused as a whole (encoding, missing columns, size) registers nothing and is a
422 ``csv-refused`` naming the reason. Otherwise each good row is registered and committed on
its own, so a bad row never blocks or loses a good one, and importing the same file again
answers ``existing`` for every row and changes nothing. No plain security codes are returned:
the labels of an imported lot come from ``GET /api/v1/lots/{lot}/labels.pdf``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app import audit
from app.api.devices import check_lot
from app.api.factory import LinePrincipal, domain_errors, secret_keys
from app.deps import ActorDep, PlatformDep
from app.problems import Problem
from common.clock import utcnow
from enrollment import service
from enrollment.csv_import import ParsedImport, RowResult, RowStatus, parse_factory_csv
from enrollment.errors import MetadataRefused
from enrollment.identifiers import format_mac
from enrollment.sealing import SecretKeys
from enrollment.service_errors import (
    IdempotencyKeyReused,
    MacPoolEmpty,
    RegistrationConflict,
    UnknownFamily,
)

router = APIRouter(prefix="/api/v1", tags=["factory line"])


class ImportStatus(StrEnum):
    CREATED = "created"
    EXISTING = "existing"
    DUPLICATE = "duplicate"
    ERROR = "error"


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


Progress = Callable[[int, int], None]


def import_rows(
    session: Session,
    parsed: ParsedImport,
    *,
    keys: SecretKeys,
    actor: audit.Actor,
    now: datetime,
    progress: Progress | None = None,
) -> ImportResult:
    """Register every good row of ``parsed``, committing row by row; used by the CLI too."""
    rows: list[ImportRow] = []
    total = len(parsed.rows)
    for done, row in enumerate(parsed.rows, start=1):
        rows.append(_import_row(session, row, keys=keys, actor=actor, now=now))
        if progress is not None:
            progress(done, total)
    statuses = [row.status for row in rows]
    summary = ImportSummary(
        rows=len(rows), **{status.value: statuses.count(status) for status in ImportStatus}
    )
    return ImportResult(summary=summary, rows=rows)


def _import_row(
    session: Session, row: RowResult, *, keys: SecretKeys, actor: audit.Actor, now: datetime
) -> ImportRow:
    registration = row.registration
    if row.status is RowStatus.ERROR or registration is None:
        assert row.error is not None
        return ImportRow(
            line=row.line,
            status=ImportStatus.ERROR,
            error=RowErrorPublic(code=row.error.code.value, message=row.error.message),
        )
    if row.status is RowStatus.DUPLICATE:
        return ImportRow(line=row.line, serial=registration.serial, status=ImportStatus.DUPLICATE)
    try:
        check_lot(registration.lot)
        registered = service.register_device(
            session, registration, keys=keys, actor=actor, now=now, audit=audit.record
        )
        session.commit()
    except ValueError as refused:
        return _error(row.line, registration.serial, "bad_field", str(refused))
    except (
        RegistrationConflict,
        UnknownFamily,
        MacPoolEmpty,
        IdempotencyKeyReused,
        MetadataRefused,
    ) as refused:
        session.rollback()
        code = {
            MetadataRefused: "invalid_metadata",
            RegistrationConflict: "conflict",
            UnknownFamily: "unknown_family",
            MacPoolEmpty: "mac_pool_exhausted",
        }.get(type(refused), "refused")
        return _error(row.line, registration.serial, code, str(refused))
    return ImportRow(
        line=row.line,
        serial=registration.serial,
        status=ImportStatus.CREATED if registered.created else ImportStatus.EXISTING,
        mac=format_mac(registered.device.mac),
    )


def _error(line: int, serial: str, code: str, message: str) -> ImportRow:
    return ImportRow(
        line=line,
        serial=serial,
        status=ImportStatus.ERROR,
        error=RowErrorPublic(code=code, message=message),
    )


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
    with domain_errors():
        parsed = parse_factory_csv(data, max_bytes=platform.settings.max_body_bytes)
    keys = secret_keys(platform.settings)

    def run() -> ImportResult:
        with Session(platform.engine, expire_on_commit=False) as session:
            result = import_rows(session, parsed, keys=keys, actor=actor, now=utcnow())
            audit.record(
                session,
                actor,
                "device.import",
                object_type="lot",
                **result.summary.model_dump(),
            )
            session.commit()
            return result

    return await run_in_threadpool(run)
