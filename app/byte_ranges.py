"""HTTP ``Range`` and ``If-Range`` (RFC 9110 14.2, 13.1.5) for firmware downloads: pure rules.

Only one ``bytes`` range is served (what resuming stations send); anything else that asks for
a range (several ranges, another unit, bad syntax, a start past the end) is refused with 416,
so a station never mistakes a whole image for the part it asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

__all__ = ["ByteRange", "RangeRefused", "if_range_allows", "parse_range"]

_SPEC = re.compile(r"^(\d{0,19})-(\d{0,19})$")


class RangeRefused(Exception):
    """The Range header cannot be served against this size; the message says why."""


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str, size: int) -> ByteRange:
    """The one byte range ``header`` asks for within ``size`` bytes.

    Raises:
        RangeRefused: not a single, well-formed, satisfiable ``bytes`` range.
    """
    unit, sep, spec = header.strip().partition("=")
    if not sep or unit.strip().lower() != "bytes":
        raise RangeRefused("only byte ranges are served (Range: bytes=START-END)")
    spec = spec.strip()
    if "," in spec:
        raise RangeRefused("only a single byte range is served per request")
    match = _SPEC.match(spec)
    if match is None or spec == "-":
        raise RangeRefused(f"malformed byte range {spec[:40]!r}")
    first, last = match.groups()
    if not first:  # suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeRefused("an empty suffix range selects nothing")
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        raise RangeRefused(f"range end {end} is before its start {start}")
    if start >= size:
        raise RangeRefused(f"range start {start} is past the end of the {size}-byte image")
    return ByteRange(start, min(end, size - 1))


def if_range_allows(if_range: str | None, *, etag: str, last_modified: datetime) -> bool:
    """Whether a Range may be honoured under ``If-Range`` (absent, or matching the
    representation: the strong ETag, or exactly the Last-Modified date)."""
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return value == etag  # a weak validator never matches (RFC 9110 13.1.5)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return when.tzinfo is not None and int(when.timestamp()) == int(last_modified.timestamp())
