"""``DownloadLinks``: where a station fetches an image (the OCPP ``location``), and the checks
of those links when the station comes for it.

HTTPS: ``<public url>/fw/<token>`` with a token that signs image, station, rollout target and
window (:mod:`firmware.downloads`); nothing is stored. FTP: ``ftp://user:password@host:port/
<file>`` with a login made for that one download, stored hashed, valid in the same window.
The rollout service calls :meth:`DownloadLinks.location` (its ``LocationIssuer`` port).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from firmware.download_tables import FtpLoginRow
from firmware.downloads import (
    MAX_LOCATION,
    DownloadGrant,
    LocationTooLong,
    check_window,
    decode_token,
    encode_token,
    hash_secret,
    new_ftp_login,
    safe_file_name,
    secret_matches,
)
from firmware.tables import FirmwareImageRow

__all__ = ["DownloadLinks", "FtpLogin", "Protocol"]

Protocol = Literal["https", "ftp"]
DOWNLOAD_PATH = "/fw/"


@dataclass(frozen=True, slots=True)
class FtpLogin:
    """A stored FTP login: its grant and the one file it may read."""

    username: str
    password_hash: str
    grant: DownloadGrant


class DownloadLinks:
    """Issues and checks download locations. ``ftp_port`` may be set once the FTP server has
    bound an ephemeral port."""

    def __init__(
        self,
        engine: Engine,
        key: bytes,
        *,
        public_url: str,
        ftp_host: str,
        ftp_port: int,
    ) -> None:
        self.engine = engine
        self.key = key
        self.public_url = public_url.rstrip("/")
        self.ftp_host = ftp_host
        self.ftp_port = ftp_port

    def location(
        self,
        *,
        image: FirmwareImageRow,
        station_id: str,
        target_id: int | None,
        protocol: Protocol,
        valid_from: datetime,
        valid_until: datetime,
    ) -> str:
        """The ``location`` for ``station_id`` to fetch ``image`` from ``valid_from`` (the
        request's retrieveDateTime) through ``valid_until`` (retrieveDateTime + retries x
        retryInterval + a margin; the caller decides).

        Raises:
            LocationTooLong: the URL would not fit OCPP's 512 characters.
            ValueError: an id, station id or window the grant cannot carry.
        """
        assert image.id is not None, "an image is stored before it is sent"
        grant = DownloadGrant(image.id, station_id, target_id, valid_from, valid_until)
        if protocol == "https":
            url = f"{self.public_url}{DOWNLOAD_PATH}{encode_token(self.key, grant)}"
        elif protocol == "ftp":
            url = self._ftp_location(image, grant)
        else:
            raise ValueError(f"no download protocol {protocol!r}")
        if len(url) > MAX_LOCATION:
            raise LocationTooLong(
                f"the download location has {len(url)} characters, OCPP allows "
                f"{MAX_LOCATION}: shorten the public URL"
            )
        return url

    def _ftp_location(self, image: FirmwareImageRow, grant: DownloadGrant) -> str:
        encode_token(self.key, grant)  # the same checks of ids and window as HTTPS links
        for _ in range(5):  # 48 random bits of user name: a clash is rare, retried
            username, password = new_ftp_login()
            row = FtpLoginRow(
                username=username,
                password_hash=hash_secret(password),
                image_id=grant.image_id,
                station_id=grant.station_id,
                target_id=grant.target_id,
                valid_from=grant.valid_from,
                valid_until=grant.valid_until,
            )
            try:
                with Session(self.engine) as session:
                    session.add(row)
                    session.commit()
            except IntegrityError:
                continue
            name = safe_file_name(image.filename, image.version)
            return f"ftp://{username}:{password}@{self.ftp_host}:{self.ftp_port}/{name}"
        raise RuntimeError("could not make a unique FTP login")

    def decode(self, token: str) -> DownloadGrant:
        """The grant an HTTPS token carries, whatever its window (check it with
        :func:`firmware.downloads.check_window`, so a refusal can name the station).

        Raises:
            LinkForged: not a token this platform issued.
        """
        return decode_token(self.key, token)

    def grant(self, token: str, *, now: datetime) -> DownloadGrant:
        """The grant of an HTTPS token valid at ``now``.

        Raises:
            LinkForged, LinkNotYetValid, LinkExpired
        """
        grant = self.decode(token)
        check_window(grant, now)
        return grant

    def ftp_login(self, username: str) -> FtpLogin | None:
        """The stored login named ``username`` (whatever its window), or None."""
        if not username or len(username) > 32:
            return None
        with Session(self.engine) as session:
            row = session.get(FtpLoginRow, username)
        if row is None:
            return None
        grant = DownloadGrant(
            row.image_id, row.station_id, row.target_id, row.valid_from, row.valid_until
        )
        return FtpLogin(row.username, row.password_hash, grant)

    def forget_expired_logins(self, before: datetime) -> int:
        """Delete the FTP logins whose window ended before ``before``; returns how many."""
        with Session(self.engine) as session:
            result = session.execute(
                delete(FtpLoginRow).where(col(FtpLoginRow.valid_until) < before)
            )
            session.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    def password_matches(login: FtpLogin, password: str) -> bool:
        return secret_matches(password, login.password_hash)
