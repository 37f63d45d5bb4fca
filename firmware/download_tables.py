"""Firmware delivery's tables: the download log and the per-download FTP logins.

Every request for an image (HTTPS or FTP, served, redirected or refused) leaves one row in
``firmware_downloads``, tied to the rollout target it was issued for. Image and target ids are
plain columns: the log outlives images that are deleted and rollouts that are archived.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Integer, String
from sqlmodel import Field, SQLModel

from common.clock import utcnow

__all__ = ["FirmwareDownloadRow", "FtpLoginRow"]


def _utc(*, index: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False, index=index)


class FirmwareDownloadRow(SQLModel, table=True):
    """One download attempt and how it ended.

    ``outcome``: ``completed`` (every byte asked for was sent), ``interrupted`` (the client went
    away), ``head``, ``redirected`` (302 to the object store), ``not-modified`` or a refusal:
    ``forged``, ``expired``, ``not-yet-valid``, ``range-refused``, ``image-missing``,
    ``login-refused``. ``range_end`` is inclusive, as in ``Content-Range``.
    """

    __tablename__ = "firmware_downloads"

    id: int | None = Field(default=None, primary_key=True)
    station_id: str | None = Field(
        default=None, sa_column=Column(String(48), nullable=True, index=True)
    )
    image_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    target_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, index=True)
    )
    protocol: str = Field(max_length=8)
    range_start: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    range_end: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    bytes_sent: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    outcome: str = Field(max_length=32)
    detail: str = Field(default="", max_length=300)
    client_address: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_column=_utc(index=True))


class FtpLoginRow(SQLModel, table=True):
    """A user/password pair made for one download of one image by one station.

    Only the SHA-256 of the (random, 144-bit) password is kept; the login works from
    ``valid_from`` (minus the clock skew) through ``valid_until``.
    """

    __tablename__ = "firmware_ftp_logins"

    username: str = Field(sa_column=Column(String(32), primary_key=True))
    password_hash: str = Field(max_length=64)
    image_id: int = Field(sa_column=Column(Integer, nullable=False))
    station_id: str = Field(max_length=48)
    target_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    valid_from: datetime = Field(sa_column=_utc())
    valid_until: datetime = Field(sa_column=_utc(index=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
