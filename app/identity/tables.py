"""Identity tables: users, OAuth2 clients, refresh tokens, failed-login counters, e-mail links."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, String
from sqlmodel import Field, SQLModel

from common.clock import utcnow


def _uuid() -> str:
    return str(uuid.uuid4())


def utc_column(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(default_factory=_uuid, primary_key=True, max_length=36)
    email: str = Field(sa_column=Column(String(254), unique=True, nullable=False))
    password_hash: str = Field(max_length=255)
    roles: str = Field(default="owner", max_length=100, description="space-separated roles")
    disabled: bool = False
    email_verified: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())

    @property
    def role_list(self) -> list[str]:
        return self.roles.split()


class OAuthClient(SQLModel, table=True):
    __tablename__ = "oauth_clients"

    client_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    secret_hash: str = Field(max_length=128)
    roles: str = Field(max_length=100)
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class RefreshToken(SQLModel, table=True):
    """A refresh token, stored as its SHA-256; tokens of one login form a rotation family."""

    __tablename__ = "refresh_tokens"

    id: str = Field(default_factory=_uuid, primary_key=True, max_length=36)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    family_id: str = Field(index=True, max_length=36)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    issued_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class LoginFailure(SQLModel, table=True):
    """Failed logins per key (an account or a source address) within the current window."""

    __tablename__ = "login_failures"

    key: str = Field(primary_key=True, max_length=300)
    failures: int = 0
    window_started_at: datetime = Field(sa_column=utc_column())
    locked_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class EmailToken(SQLModel, table=True):
    """A single-use link token e-mailed to a user (``purpose``: verify or reset)."""

    __tablename__ = "owner_email_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    purpose: str = Field(max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
