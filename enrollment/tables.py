"""The factory line's tables (SQLModel): the persistence edge of :mod:`enrollment`.

What must never happen twice is enforced here, by the database, not by the code that reads
first: one device per serial (primary key), one device per MAC address (unique), one family
per name (unique), one device per ``Idempotency-Key`` (unique). The MAC pool hands out
addresses from a per-range counter (:attr:`MacRangeRow.next_index`) that the allocator moves
with a single conditional ``UPDATE ... RETURNING``, so concurrent registrations queue on the
range's row instead of racing for the same address (:mod:`enrollment.repository`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, String, Text
from sqlmodel import Field, SQLModel

from common.clock import utcnow

__all__ = ["DeviceRow", "HardwareFamilyRow", "MacRangeRow"]


def utc_column(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class HardwareFamilyRow(SQLModel, table=True):
    """A hardware family: one vendor's model, the OCPP version it speaks, its default channel."""

    __tablename__ = "hardware_families"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    vendor: str = Field(max_length=50)
    model: str = Field(max_length=50)
    ocpp_version: str = Field(max_length=16)
    default_channel: str = Field(default="stable", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class MacRangeRow(SQLModel, table=True):
    """A pool range ``first..last`` (48-bit integers); ``next_index`` addresses are taken."""

    __tablename__ = "mac_ranges"

    id: int | None = Field(default=None, primary_key=True)
    first: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    last: int = Field(sa_column=Column(BigInteger, nullable=False))
    next_index: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class DeviceRow(SQLModel, table=True):
    """A whitelisted device, keyed by its canonical serial number.

    ``device_code_hash`` and ``packaging_code_hash`` are HMAC-SHA256 under the pepper
    (:mod:`enrollment.codes`). ``sealed_codes`` holds the two plain codes encrypted
    (:mod:`enrollment.sealing`) while the labels may still be printed; release erases it.
    """

    __tablename__ = "devices"

    serial: str = Field(primary_key=True, max_length=25)
    family_id: int = Field(foreign_key="hardware_families.id", index=True)
    lot: str = Field(max_length=64, index=True)
    metadata_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    mac: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    mac_range_id: int = Field(foreign_key="mac_ranges.id", index=True)
    state: str = Field(default="registered", max_length=20, index=True)
    device_code_hash: str = Field(max_length=64)
    packaging_code_hash: str = Field(max_length=64)
    sealed_codes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    idempotency_key: str | None = Field(
        default=None, sa_column=Column(String(200), unique=True, nullable=True)
    )
    certificate_serial: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    enrolled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    released_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decommissioned_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
