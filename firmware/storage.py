"""Where firmware images live: one interface, local files by default, S3 in production.

Keys are opaque, ``/``-separated names chosen by the catalog (``<family>/<sha256>``). Reads are
streamed in chunks so that memory does not grow with the image; ``end`` is exclusive.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 64 * 1024
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class ArtifactMissing(Exception):
    """No artifact under that key."""


class ArtifactStore(Protocol):
    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store the chunks under ``key`` (replacing nothing half-written); returns the size."""
        ...

    def size(self, key: str) -> int: ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``start..end`` (end exclusive, None: to the end) in chunks."""
        ...

    def delete(self, key: str) -> None: ...

    def presigned_url(self, key: str, *, expires_in: int) -> str | None:
        """A URL the object store itself serves for ``expires_in`` seconds; None when local."""
        ...


def checked_key(key: str) -> str:
    if len(key) > 255 or not _KEY.match(key) or ".." in key:
        raise ValueError(f"not a valid artifact key: {key!r}")
    return key


class LocalArtifactStore:
    """Files under one directory; a put writes a temporary file and renames it into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / checked_key(key)

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
            os.replace(name, target)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return size

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError as exc:
            raise ArtifactMissing(key) from exc

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            handle = self.path(key).open("rb")
        except FileNotFoundError as exc:
            raise ArtifactMissing(key) from exc
        return _chunks(handle, start, end)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def presigned_url(self, key: str, *, expires_in: int) -> str | None:  # noqa: ARG002
        return None  # local files are served by the platform itself


def _chunks(handle: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        left = None if end is None else max(0, end - start)
        while left is None or left > 0:
            chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk
