"""Firmware's tables (SQLModel): images, channels per hardware family, per-station channel
overrides and the signing roots families name. The persistence edge of :mod:`firmware`.

What must never happen twice is enforced here: one image per (family, version), one channel per
(family, name).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from common.clock import utcnow

__all__ = [
    "FamilySigningRootRow",
    "FamilySigningRow",
    "FirmwareChannelRow",
    "FirmwareImageRow",
    "StationChannelRow",
]


def _utc(*, nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


def _family() -> Column[int]:
    return Column(Integer, ForeignKey("hardware_families.id"), nullable=False, index=True)


class FirmwareImageRow(SQLModel, table=True):
    """One firmware image of one hardware family, verified before it was stored.

    ``signature`` (base64) and ``signing_certificate`` (PEM) are None for an unsigned image,
    which only a rollout that explicitly allows unsigned images may send.
    """

    __tablename__ = "firmware_images"
    __table_args__ = (UniqueConstraint("family_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(sa_column=_family())
    version: str = Field(max_length=50)
    filename: str = Field(max_length=255)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(max_length=64)
    md5: str = Field(max_length=32)
    storage_key: str = Field(max_length=255)
    signature: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    signing_certificate: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    signature_algorithm: str | None = Field(default=None, max_length=32)
    release_notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_by: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class FirmwareChannelRow(SQLModel, table=True):
    """A channel of a family (stable, beta, canary or a custom name) and the image it carries."""

    __tablename__ = "firmware_channels"
    __table_args__ = (UniqueConstraint("family_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(sa_column=_family())
    name: str = Field(max_length=32)
    image_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("firmware_images.id"), nullable=True),
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class StationChannelRow(SQLModel, table=True):
    """A station that follows another channel than its family's default."""

    __tablename__ = "firmware_station_channels"

    station_id: str = Field(
        sa_column=Column(String(48), ForeignKey("stations.id"), primary_key=True)
    )
    channel: str = Field(max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class FamilySigningRootRow(SQLModel, table=True):
    """The vendor's own manufacturer root a family's images are signed under (PEM); families
    without a row use the platform's manufacturer root."""

    __tablename__ = "firmware_family_roots"

    family_id: int = Field(
        sa_column=Column(Integer, ForeignKey("hardware_families.id"), primary_key=True)
    )
    certificate: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class FamilySigningRow(SQLModel, table=True):
    """The signature algorithm a family's stations verify (RSA-PSS unless a row says else)."""

    __tablename__ = "firmware_family_signing"

    family_id: int = Field(
        sa_column=Column(Integer, ForeignKey("hardware_families.id"), primary_key=True)
    )
    signature_algorithm: str = Field(max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
