"""An upload on its way in: written to a temporary file while sha256, MD5 and size are
computed, refused the moment it passes the size limit, removed unless it is accepted.

The file is staged before anything is stored because a pre-signed image can only be checked
once its last byte is in; only a verified image reaches the artifact store.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from firmware.errors import ImageTooLarge
from firmware.storage import CHUNK


class StagedImage:
    """A temporary file with its digests; a context manager that always removes it."""

    def __init__(self, directory: Path, *, max_bytes: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix=".staged-")
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self.max_bytes = max_bytes
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.closed = False

    def write(self, chunk: bytes) -> None:
        """Raises ImageTooLarge as soon as the bytes so far pass ``max_bytes``."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise ImageTooLarge(self.max_bytes)
        self._sha256.update(chunk)
        self._md5.update(chunk)
        self._file.write(chunk)

    def finish(self) -> None:
        if not self.closed:
            self._file.close()
            self.closed = True

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def sha256_digest(self) -> bytes:
        return self._sha256.digest()

    @property
    def md5(self) -> str:
        return self._md5.hexdigest()

    def chunks(self) -> Iterator[bytes]:
        self.finish()
        with self.path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def discard(self) -> None:
        self.finish()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> StagedImage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()
