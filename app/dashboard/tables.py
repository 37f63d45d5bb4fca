"""The dashboard's one table: logged-in browser sessions, stored by the hash of their cookie."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.identity.tables import utc_column


class DashboardSession(SQLModel, table=True):
    """One browser login. The cookie holds a random token; only its SHA-256 is kept here.

    ``kind`` is ``user`` (a platform account, ``subject`` its id: re-checked on every request so
    a disabled account is logged out) or ``oidc`` (``subject`` is ``issuer#sub``; the roles were
    mapped from the provider's claims at login).
    """

    __tablename__ = "dashboard_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=8)
    subject: str = Field(max_length=300, index=True)
    name: str = Field(max_length=254)
    roles: str = Field(max_length=100, description="space-separated roles")
    csrf_token: str = Field(max_length=64)
    source: str = Field(default="", max_length=100)
    created_at: datetime = Field(sa_column=utc_column())
    last_seen_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column(index=True))
