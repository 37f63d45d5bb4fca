"""Bulk registration from a parsed factory CSV file, with one result per row.

Each good row is registered and committed on its own, so a bad row never blocks or loses a
good one, and importing the same file again answers ``existing`` for every row and changes
nothing (registration is idempotent by serial, :func:`enrollment.service.register_device`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from enrollment import service
from enrollment.csv_import import ParsedImport, RowResult, RowStatus
from enrollment.errors import MetadataRefused
from enrollment.identifiers import check_lot, format_mac
from enrollment.ports import AuditTrail
from enrollment.sealing import SecretKeys
from enrollment.service_errors import (
    IdempotencyKeyReused,
    MacPoolEmpty,
    RegistrationConflict,
    UnknownFamily,
)

Progress = Callable[[int, int], None]


class ImportStatus(StrEnum):
    CREATED = "created"
    EXISTING = "existing"
    DUPLICATE = "duplicate"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class RowError:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    status: ImportStatus
    serial: str | None = None
    mac: str | None = None
    error: RowError | None = None


@dataclass(frozen=True, slots=True)
class ImportSummary:
    rows: int
    created: int
    existing: int
    duplicate: int
    error: int

    def as_detail(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ImportResult:
    summary: ImportSummary
    rows: list[ImportRow]


def import_rows(
    session: Session,
    parsed: ParsedImport,
    *,
    keys: SecretKeys,
    actor: Any,
    now: datetime,
    audit: AuditTrail,
    progress: Progress | None = None,
) -> ImportResult:
    """Register every good row of ``parsed``, committing row by row."""
    rows: list[ImportRow] = []
    total = len(parsed.rows)
    for done, row in enumerate(parsed.rows, start=1):
        rows.append(_import_row(session, row, keys=keys, actor=actor, now=now, audit=audit))
        if progress is not None:
            progress(done, total)
    statuses = [row.status for row in rows]
    summary = ImportSummary(
        rows=len(rows), **{status.value: statuses.count(status) for status in ImportStatus}
    )
    return ImportResult(summary=summary, rows=rows)


def import_file(
    session: Session,
    parsed: ParsedImport,
    *,
    keys: SecretKeys,
    actor: Any,
    now: datetime,
    audit: AuditTrail,
    progress: Progress | None = None,
    object_type: str = "",
) -> ImportResult:
    """:func:`import_rows`, then the import itself audited (``device.import``, of
    ``object_type``) and committed."""
    result = import_rows(
        session, parsed, keys=keys, actor=actor, now=now, audit=audit, progress=progress
    )
    detail: dict[str, Any] = result.summary.as_detail()
    audit(session, actor, "device.import", object_type=object_type, **detail)
    session.commit()
    return result


def _import_row(
    session: Session,
    row: RowResult,
    *,
    keys: SecretKeys,
    actor: Any,
    now: datetime,
    audit: AuditTrail,
) -> ImportRow:
    registration = row.registration
    if row.status is RowStatus.ERROR or registration is None:
        assert row.error is not None
        return ImportRow(
            line=row.line,
            status=ImportStatus.ERROR,
            error=RowError(code=row.error.code.value, message=row.error.message),
        )
    if row.status is RowStatus.DUPLICATE:
        return ImportRow(line=row.line, serial=registration.serial, status=ImportStatus.DUPLICATE)
    try:
        check_lot(registration.lot)
        registered = service.register_device(
            session, registration, keys=keys, actor=actor, now=now, audit=audit
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
        line=line, serial=serial, status=ImportStatus.ERROR, error=RowError(code, message)
    )
