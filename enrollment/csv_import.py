"""Parse the factory's bulk registration CSV.

The file is UTF-8, with or without a byte-order mark, comma-separated, with a header row.
Column names are matched case-insensitively after trimming spaces.

- Required columns: ``serial``, ``family``, ``lot``.
- Optional ``metadata``: a JSON object, within the bounds of :mod:`enrollment.metadata`
  (checked together with the extra columns below; a row outside them is an error).
- Any other named column is metadata too: its non-empty values are collected as strings under
  the column name. A key given both ways is a row error, never a silent overwrite.
- Columns without a name (trailing commas from spreadsheets) are ignored while empty.

Whole-file problems raise :class:`CsvImportError` before any row is considered: too large,
too many rows, not UTF-8 (naming the byte offset), empty, missing or repeated columns, broken
CSV quoting. Everything else is reported per row, and never blocks the good rows: each data
row gets a :class:`RowResult` with the line where the record starts.

The same serial twice with identical data is harmless (a line script pasted a row twice): the
first row is ``OK``, the others ``DUPLICATE``. With different data nobody can tell which row is
right, so every row of that serial is an error.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from enrollment.errors import CsvErrorReason, CsvImportError, InvalidSerial
from enrollment.identifiers import parse_serial
from enrollment.metadata import MetadataRefused, check_metadata

if TYPE_CHECKING:
    import _csv

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "CsvErrorReason",
    "CsvImportError",
    "ParsedImport",
    "Registration",
    "RowError",
    "RowErrorCode",
    "RowResult",
    "RowStatus",
    "parse_factory_csv",
]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000
REQUIRED_COLUMNS = ("serial", "family", "lot")
METADATA_COLUMN = "metadata"
MAX_NAME_LENGTH = 64


class RowStatus(StrEnum):
    OK = "ok"
    DUPLICATE = "duplicate"
    ERROR = "error"


class RowErrorCode(StrEnum):
    MISSING_FIELD = "missing_field"
    BAD_SERIAL = "bad_serial"
    BAD_FIELD = "bad_field"
    TOO_MANY_FIELDS = "too_many_fields"
    MALFORMED_METADATA = "malformed_metadata"
    INVALID_METADATA = "invalid_metadata"
    METADATA_CONFLICT = "metadata_conflict"
    DUPLICATE_SERIAL = "duplicate_serial"


@dataclass(frozen=True, slots=True)
class Registration:
    """One device to register: canonical serial, hardware family, lot and free metadata."""

    serial: str
    family: str
    lot: str
    metadata: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RowError:
    code: RowErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class RowResult:
    """The outcome of one data row. ``line`` is where the record starts (the header is 1)."""

    line: int
    registration: Registration | None = None
    error: RowError | None = None
    duplicate_of: int | None = None

    @property
    def status(self) -> RowStatus:
        if self.error is not None:
            return RowStatus.ERROR
        if self.duplicate_of is not None:
            return RowStatus.DUPLICATE
        return RowStatus.OK


@dataclass(frozen=True, slots=True)
class ParsedImport:
    rows: tuple[RowResult, ...]

    @property
    def registrations(self) -> list[Registration]:
        """The devices to register: one per ``OK`` row."""
        return [
            row.registration
            for row in self.rows
            if row.status is RowStatus.OK and row.registration is not None
        ]

    @property
    def errors(self) -> list[RowResult]:
        return [row for row in self.rows if row.status is RowStatus.ERROR]


class _RowRefused(Exception):  # noqa: N818 - internal control flow, never escapes
    def __init__(self, code: RowErrorCode, message: str) -> None:
        self.error = RowError(code, message)


def parse_factory_csv(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_rows: int = DEFAULT_MAX_ROWS
) -> ParsedImport:
    """Parse a factory CSV into one result per data row.

    Raises:
        CsvImportError: the file is refused as a whole (see the module docstring).
    """
    text = _decode(data, max_bytes)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = _records(reader, max_rows)
    except csv.Error as error:
        raise CsvImportError(CsvErrorReason.MALFORMED, f"line {reader.line_num}: {error}") from None
    if not records:
        raise CsvImportError(CsvErrorReason.EMPTY, "file has no header row")
    columns = _columns(records[0][1])
    results = [_row(line, fields, columns) for line, fields in records[1:]]
    return ParsedImport(tuple(_resolve_duplicates(results)))


def _decode(data: bytes, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise CsvImportError(
            CsvErrorReason.TOO_LARGE, f"file has {len(data)} bytes; at most {max_bytes} allowed"
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvImportError(CsvErrorReason.ENCODING, "file is UTF-16; save it as UTF-8")
    offset = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[offset:].decode("utf-8")
    except UnicodeDecodeError as error:
        position = offset + error.start
        raise CsvImportError(
            CsvErrorReason.ENCODING,
            f"not UTF-8: byte 0x{data[position]:02X} at offset {position}",
        ) from None
    if not text.strip():
        raise CsvImportError(CsvErrorReason.EMPTY, "file is empty")
    return text


def _records(reader: _csv.Reader, max_rows: int) -> list[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on; the first is the header."""
    records: list[tuple[int, list[str]]] = []
    previous_end = 0
    for fields in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if not any(value.strip() for value in fields):
            continue
        if len(records) > max_rows:
            raise CsvImportError(
                CsvErrorReason.TOO_MANY_ROWS, f"more than {max_rows} rows; split the file"
            )
        records.append((start, fields))
    return records


def _columns(header: list[str]) -> list[str]:
    columns = [name.strip().lower() for name in header]
    named = [name for name in columns if name]
    repeated = sorted({name for name in named if named.count(name) > 1})
    if repeated:
        raise CsvImportError(
            CsvErrorReason.DUPLICATE_COLUMNS, f"repeated columns: {', '.join(repeated)}"
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        detail = f"missing columns: {', '.join(missing)}"
        if len(named) == 1 and (";" in named[0] or "\t" in named[0]):
            separator = ";" if ";" in named[0] else "tab"
            detail += f" (the file looks {separator}-separated; use commas)"
        raise CsvImportError(CsvErrorReason.MISSING_COLUMNS, detail)
    return columns


def _row(line: int, fields: list[str], columns: list[str]) -> RowResult:
    try:
        return RowResult(line, registration=_registration(fields, columns))
    except _RowRefused as refused:
        return RowResult(line, error=refused.error)


def _registration(fields: list[str], columns: list[str]) -> Registration:
    extra = [value for value in fields[len(columns) :] if value.strip()]
    if extra:
        raise _RowRefused(
            RowErrorCode.TOO_MANY_FIELDS,
            f"{len(fields)} fields; the header has {len(columns)} columns",
        )
    values: dict[str, str] = {}
    for index, name in enumerate(columns):
        value = fields[index].strip() if index < len(fields) else ""
        if not name and value:
            raise _RowRefused(RowErrorCode.BAD_FIELD, f"value in unnamed column {index + 1}")
        values[name] = value
    for name in REQUIRED_COLUMNS:
        if not values[name]:
            raise _RowRefused(RowErrorCode.MISSING_FIELD, f"{name} is empty")
    try:
        serial = parse_serial(values["serial"])
    except InvalidSerial as error:
        raise _RowRefused(RowErrorCode.BAD_SERIAL, error.reason) from None
    family = _name(values["family"], "family")
    lot = _name(values["lot"], "lot")
    metadata = _metadata(values.get(METADATA_COLUMN, ""))
    for name, value in values.items():
        if name in (*REQUIRED_COLUMNS, METADATA_COLUMN, "") or not value:
            continue
        if name in metadata:
            raise _RowRefused(
                RowErrorCode.METADATA_CONFLICT,
                f"metadata key {name!r} is given both as a column and in the JSON",
            )
        metadata[name] = value
    try:
        check_metadata(metadata)
    except MetadataRefused as refused:
        raise _RowRefused(RowErrorCode.INVALID_METADATA, str(refused)) from None
    return Registration(serial, family, lot, metadata)


def _name(value: str, column: str) -> str:
    if len(value) > MAX_NAME_LENGTH:
        raise _RowRefused(
            RowErrorCode.BAD_FIELD,
            f"{column} has {len(value)} characters; at most {MAX_NAME_LENGTH} allowed",
        )
    if not value.isprintable():
        raise _RowRefused(RowErrorCode.BAD_FIELD, f"{column} contains control characters")
    return value


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _metadata(text: str) -> dict[str, object]:
    if not text:
        return {}
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise _RowRefused(
            RowErrorCode.MALFORMED_METADATA, "metadata is not valid JSON: nested too deeply"
        ) from None
    except ValueError as error:
        message = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        raise _RowRefused(
            RowErrorCode.MALFORMED_METADATA, f"metadata is not valid JSON: {message}"
        ) from None
    if not isinstance(parsed, dict):
        raise _RowRefused(RowErrorCode.MALFORMED_METADATA, "metadata must be a JSON object")
    return parsed


def _resolve_duplicates(results: list[RowResult]) -> list[RowResult]:
    lines_by_serial: dict[str, list[RowResult]] = {}
    for result in results:
        if result.registration is not None:
            lines_by_serial.setdefault(result.registration.serial, []).append(result)
    replaced: dict[int, RowResult] = {}
    for serial, group in lines_by_serial.items():
        if len(group) == 1:
            continue
        first = group[0]
        if all(result.registration == first.registration for result in group):
            for result in group[1:]:
                replaced[result.line] = RowResult(
                    result.line, result.registration, duplicate_of=first.line
                )
            continue
        lines = ", ".join(str(result.line) for result in group)
        for result in group:
            replaced[result.line] = RowResult(
                result.line,
                error=RowError(
                    RowErrorCode.DUPLICATE_SERIAL,
                    f"serial {serial} is on lines {lines} with different data",
                ),
            )
    return [replaced.get(result.line, result) for result in results]
