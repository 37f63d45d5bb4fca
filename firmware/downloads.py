"""Download grants for firmware images: compact signed tokens and per-download FTP secrets.

A station is told where to fetch an image in the OCPP ``location`` field, which holds at most
512 characters (1.6 ``UpdateFirmware.location`` anyURI, 2.0.1 ``FirmwareType.location``
string[0..512]). So a grant travels as one short, URL-safe token that the platform signs and
checks again on every request; nothing is stored for HTTPS links.

Token layout (before base64url, no padding)::

    version (1) | image id (4) | target id (8, 0 = none) | valid from (4) | valid until (4)
    | station id (utf-8, at most 48) | HMAC-SHA256 tag truncated to 16 bytes

Times are whole UNIX seconds. The key comes from the platform secret (:func:`derive_key`), so a
token is valid on every api process. Pure: time comes in as an argument, failures raise.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "DownloadError",
    "DownloadGrant",
    "LinkExpired",
    "LinkForged",
    "LinkNotYetValid",
    "LocationTooLong",
    "MAX_LOCATION",
    "check_window",
    "decode_token",
    "derive_key",
    "encode_token",
    "hash_secret",
    "new_ftp_login",
    "safe_file_name",
    "secret_matches",
]

MAX_LOCATION = 512
"""OCPP 1.6 and 2.0.1: the ``location`` field holds at most 512 characters."""

MAX_STATION_ID = 48
CLOCK_SKEW = timedelta(seconds=60)
"""A station whose clock runs this much ahead may start at ``valid_from`` by its own clock."""

_VERSION = 1
_HEADER = struct.Struct(">BIQII")
_TAG = 16
_U32 = 2**32
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class DownloadError(Exception):
    """Root of the download errors: a link or login that does not grant the download."""


class LinkForged(DownloadError):
    """The token is malformed or its signature does not match: it was not issued by us."""


class LinkNotYetValid(DownloadError):
    def __init__(self, valid_from: datetime) -> None:
        super().__init__(
            f"this download link is valid from {valid_from.isoformat()} (the update's "
            "retrieveDateTime); retry then"
        )
        self.valid_from = valid_from


class LinkExpired(DownloadError):
    def __init__(self, valid_until: datetime) -> None:
        super().__init__(
            f"this download link expired at {valid_until.isoformat()}; the station needs a new "
            "update request"
        )
        self.valid_until = valid_until


class LocationTooLong(DownloadError):
    """The location would not fit OCPP's 512 characters (a very long public URL base)."""


@dataclass(frozen=True, slots=True)
class DownloadGrant:
    """What a valid token or FTP login allows: this image, for this station, in this window."""

    image_id: int
    station_id: str
    target_id: int | None
    valid_from: datetime
    valid_until: datetime


def derive_key(secret: str) -> bytes:
    """The download-token key, separate from every other use of the platform secret."""
    return hmac.new(secret.encode(), b"chargeline/firmware-download/v1", hashlib.sha256).digest()


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("download windows need aware datetimes")
    value = int(moment.timestamp())
    if not 0 <= value < _U32:
        raise ValueError(f"{moment.isoformat()} is outside the token's time range")
    return value


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def encode_token(key: bytes, grant: DownloadGrant) -> str:
    """The signed, URL-safe token for ``grant``.

    Raises:
        ValueError: ids out of range, a station id over 48 bytes, or an empty window.
    """
    station = grant.station_id.encode()
    if not station or len(station) > MAX_STATION_ID:
        raise ValueError("a station id has 1 to 48 bytes")
    if not 0 < grant.image_id < _U32 or not 0 <= (grant.target_id or 0) < 2**63:
        raise ValueError("image or target id out of range")
    start, end = _seconds(grant.valid_from), _seconds(grant.valid_until)
    if end <= start:
        raise ValueError("a download window must end after it starts")
    body = _HEADER.pack(_VERSION, grant.image_id, grant.target_id or 0, start, end) + station
    tag = hmac.new(key, body, hashlib.sha256).digest()[:_TAG]
    return base64.urlsafe_b64encode(body + tag).rstrip(b"=").decode()


def decode_token(key: bytes, token: str) -> DownloadGrant:
    """The grant a token carries, whatever its window (see :func:`check_window`).

    Raises:
        LinkForged: not base64url, wrong size or version, or a tag that does not match.
    """
    if not 0 < len(token) <= 200 or not token.isascii():
        raise LinkForged("this download link is not valid")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise LinkForged("this download link is not valid") from None
    if len(raw) <= _HEADER.size + _TAG:
        raise LinkForged("this download link is not valid")
    body, tag = raw[:-_TAG], raw[-_TAG:]
    expected = hmac.new(key, body, hashlib.sha256).digest()[:_TAG]
    if not hmac.compare_digest(tag, expected):
        raise LinkForged("this download link is not valid (its signature does not match)")
    version, image_id, target_id, start, end = _HEADER.unpack_from(body)
    if version != _VERSION:
        raise LinkForged("this download link is not valid (unknown version)")
    try:
        station_id = body[_HEADER.size :].decode()
    except UnicodeDecodeError:
        raise LinkForged("this download link is not valid") from None
    return DownloadGrant(image_id, station_id, target_id or None, _moment(start), _moment(end))


def check_window(grant: DownloadGrant, now: datetime, skew: timedelta = CLOCK_SKEW) -> None:
    """Raise unless ``now`` is inside the grant's window (``valid_from`` minus ``skew``).

    Raises:
        LinkNotYetValid, LinkExpired
    """
    if now < grant.valid_from - skew:
        raise LinkNotYetValid(grant.valid_from)
    if now > grant.valid_until:
        raise LinkExpired(grant.valid_until)


def safe_file_name(filename: str, version: str) -> str:
    """A short name for URLs and FTP paths: the upload's name cleaned, else one from the version."""
    name = _SAFE.sub("-", filename).strip(".-")[-64:].lstrip(".-")
    return name or _SAFE.sub("-", f"firmware-{version}.bin")[:64]


def new_ftp_login() -> tuple[str, str]:
    """A fresh (user, password) pair for one download: 48 random bits of name, 144 of secret.

    Both are URL-safe, so they go into ``ftp://user:password@host/...`` unescaped.
    """
    return f"fw{secrets.token_hex(6)}", secrets.token_urlsafe(18)


def hash_secret(password: str) -> str:
    """SHA-256 of a random, high-entropy per-download secret (no slow hash needed: there is
    nothing to guess); the clear secret is only ever in the location sent to the station."""
    return hashlib.sha256(password.encode()).hexdigest()


def secret_matches(password: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(password), stored_hash)
