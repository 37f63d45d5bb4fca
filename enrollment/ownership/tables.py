"""The owners' side of enrollment, its tables (SQLModel).

What concurrency could break is enforced by the database: one membership per (station, user),
one ``owner`` per station (a partial unique index), invitation tokens looked up by their
SHA-256 (unique). Users are referred to by id (``users.id``, a platform table).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from enrollment.tables import utc_column


class Membership(SQLModel, table=True):
    """A user's role on a paired station: owner, co_owner or guest (``enrollment.invitations``)."""

    __tablename__ = "station_memberships"
    __table_args__ = (
        UniqueConstraint("station_serial", "user_id"),
        Index(
            "ux_station_memberships_one_owner",
            "station_serial",
            unique=True,
            sqlite_where=text("role = 'owner'"),
            postgresql_where=text("role = 'owner'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    station_serial: str = Field(foreign_key="devices.serial", index=True, max_length=25)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    role: str = Field(max_length=10)
    invited_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class MembershipPeriod(SQLModel, table=True):
    """When a user held a role on a station: from ``started_at`` until ``ended_at`` (open while
    the membership lasts). Kept after the membership ends: charging sessions are visible by
    these periods (:mod:`charging.sessions`)."""

    __tablename__ = "station_membership_periods"

    id: int | None = Field(default=None, primary_key=True)
    station_serial: str = Field(foreign_key="devices.serial", index=True, max_length=25)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    role: str = Field(max_length=10)
    started_at: datetime = Field(sa_column=utc_column())
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class InvitationRow(SQLModel, table=True):
    """An invitation as stored: the token's SHA-256, never the token."""

    __tablename__ = "station_invitations"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    station_serial: str = Field(foreign_key="devices.serial", index=True, max_length=25)
    role: str = Field(max_length=10)
    email: str = Field(max_length=254)
    invited_by: str = Field(max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    used_by: str | None = Field(default=None, max_length=36)
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class UserCertificateBinding(SQLModel, table=True):
    """Which stations a user certificate was issued for (the SAN), for revocation on removal."""

    __tablename__ = "user_certificate_bindings"
    __table_args__ = (UniqueConstraint("serial_hex", "station_serial"),)

    id: int | None = Field(default=None, primary_key=True)
    serial_hex: str = Field(max_length=40, index=True)
    user_id: str = Field(max_length=36, index=True)
    station_serial: str = Field(max_length=25, index=True)


class UserCAInstall(SQLModel, table=True):
    """Whether a station holds the user CA (InstallCertificate); pending until it answers."""

    __tablename__ = "user_ca_installs"

    station_serial: str = Field(primary_key=True, max_length=25)
    installed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
