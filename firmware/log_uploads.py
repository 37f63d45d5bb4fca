"""Where a station uploads its log after a failed update (GetLog / GetDiagnostics).

An upload location is a platform URL with a signed token, like a download link but keyed for
uploads only, so that a download token can never be used to write. The token binds the station,
the request and the rollout target, and a window long enough for the station's retries. For an
upload grant, :class:`~firmware.downloads.DownloadGrant`'s ``image_id`` slot carries the
request id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from firmware.downloads import DownloadGrant, check_window, decode_token, encode_token

UPLOAD_WINDOW = timedelta(hours=6)
MAX_FILENAME = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def derive_upload_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"chargeline/station-log-upload/v1", hashlib.sha256).digest()


def upload_location(
    key: bytes,
    base_url: str,
    *,
    station_id: str,
    request_id: int,
    target_id: int | None,
    now: datetime,
) -> str:
    """``{base}/logs/{token}/``: 1.6 stations append their file name to a directory URL."""
    grant = DownloadGrant(request_id, station_id, target_id, now, now + UPLOAD_WINDOW)
    return f"{base_url.rstrip('/')}/logs/{encode_token(key, grant)}/"


def upload_grant(key: bytes, token: str, *, now: datetime) -> DownloadGrant:
    """The grant of a valid upload token.

    Raises:
        LinkForged, LinkNotYetValid, LinkExpired: see :mod:`firmware.downloads`.
    """
    grant = decode_token(key, token)
    check_window(grant, now)
    return grant


def stored_name(request_id: int, filename: str | None) -> str:
    """``<request>-<file>``, the file name reduced to safe characters."""
    safe = _UNSAFE.sub("_", filename or "").strip("._")[:MAX_FILENAME] or "log.txt"
    return f"{request_id}-{safe}"
