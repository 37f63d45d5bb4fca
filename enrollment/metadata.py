"""Free device metadata: the bounds every stored value keeps.

The factory line attaches a JSON object to each device (board revision, test results, ...).
It is stored as given and served back in every device list, so it must stay small and plain:
at most :data:`MAX_DEPTH` levels of objects and arrays (the top object is level 1), keys of at
most :data:`MAX_KEY_CHARS` characters, strings of at most :data:`MAX_STRING_CHARS`, integers
that JSON readers keep exact (at most 2**53 - 1 either way), finite numbers, and at most
:data:`MAX_BYTES` bytes as compact JSON. The walk is iterative, so a hostile 100,000-level
value costs no recursion.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from enrollment.errors import MetadataRefused

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_INTEGER",
    "MAX_KEY_CHARS",
    "MAX_STRING_CHARS",
    "MetadataRefused",
    "check_metadata",
    "stored_metadata",
]

MAX_DEPTH = 5
MAX_KEY_CHARS = 64
MAX_STRING_CHARS = 1024
MAX_INTEGER = 2**53 - 1
MAX_BYTES = 4096


def _path(parent: str, key: object) -> str:
    return f"{parent}[{key}]" if isinstance(key, int) else f"{parent}.{key}"


def check_metadata(value: object, *, name: str = "metadata") -> dict[str, object]:
    """Return ``value`` when it is a JSON object within the bounds.

    Raises:
        MetadataRefused: naming the first offending value, e.g. ``metadata.a.b: ...``.
    """
    if not isinstance(value, Mapping):
        raise MetadataRefused(name, "must be a JSON object")
    stack: list[tuple[str, object, int]] = [(name, value, 1)]
    while stack:
        where, item, depth = stack.pop()
        if isinstance(item, Mapping | list):
            if depth > MAX_DEPTH:
                raise MetadataRefused(where, f"nested deeper than {MAX_DEPTH} levels")
            children = item.items() if isinstance(item, Mapping) else enumerate(item)
            for key, child in children:
                if isinstance(item, Mapping):
                    if not isinstance(key, str):
                        raise MetadataRefused(where, "keys must be strings")
                    if len(key) > MAX_KEY_CHARS:
                        raise MetadataRefused(
                            _path(where, key[:16] + "..."),
                            f"key longer than {MAX_KEY_CHARS} characters",
                        )
                stack.append((_path(where, key), child, depth + 1))
        elif isinstance(item, str):
            if len(item) > MAX_STRING_CHARS:
                raise MetadataRefused(where, f"string longer than {MAX_STRING_CHARS} characters")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_INTEGER:
                raise MetadataRefused(where, f"integer outside +-{MAX_INTEGER}")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise MetadataRefused(where, "numbers must be finite")
        else:
            raise MetadataRefused(where, f"{type(item).__name__} is not a JSON value")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_BYTES:
        raise MetadataRefused(name, f"larger than {MAX_BYTES} bytes as JSON ({size})")
    return dict(value)


def stored_metadata(text: str) -> tuple[dict[str, object], str | None]:
    """Metadata as stored, for display: ``(metadata, None)``, or ``({}, why)`` for a value
    stored before the bounds existed (or otherwise unreadable), so one bad row cannot break
    a listing of many."""
    try:
        return check_metadata(json.loads(text)), None
    except RecursionError:
        return {}, "stored metadata is nested too deeply to be shown"
    except ValueError as exc:  # json.JSONDecodeError included
        return {}, f"stored metadata is not valid JSON: {exc}"
    except MetadataRefused as exc:
        return {}, f"stored metadata is outside the bounds: {exc}"
