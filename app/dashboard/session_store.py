"""Browser sessions of the dashboard: opened at login, found per request, closed at logout.

A session ends after ``IDLE`` without a request or ``LIFETIME`` after login, whichever comes
first; its cookie token carries 256 random bits and only the token's SHA-256 is stored, so a
copy of the table logs nobody in. Each session has its own CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from app.dashboard.tables import DashboardSession
from app.identity.secrets import digest, new_token
from common.clock import as_utc

IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=60)
"""``last_seen_at`` is written at most this often: a page view is mostly a read."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at the dashboard, as their session names them."""

    kind: str
    subject: str
    name: str
    roles: frozenset[str]
    csrf_token: str

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def actor_name(self) -> str:
        return f"user:{self.subject}" if self.kind == "user" else f"oidc:{self.subject}"


def open_session(
    session: Session,
    *,
    kind: str,
    subject: str,
    name: str,
    roles: frozenset[str],
    source: str,
    now: datetime,
) -> str:
    """Store a new session and return the cookie token (shown once, never stored)."""
    token = new_token()
    session.add(
        DashboardSession(
            token_hash=digest(token),
            kind=kind,
            subject=subject,
            name=name[:254],
            roles=" ".join(sorted(roles)),
            csrf_token=new_token(),
            source=source[:100],
            created_at=now,
            last_seen_at=now,
            expires_at=now + LIFETIME,
        )
    )
    return token


def find_session(session: Session, token: str | None, *, now: datetime) -> Viewer | None:
    """The live session behind a cookie token, touched; None when unknown, idle or expired."""
    if not token or len(token) > 100:
        return None
    row = session.get(DashboardSession, digest(token))
    if row is None:
        return None
    if as_utc(row.expires_at) <= now or as_utc(row.last_seen_at) + IDLE <= now:
        session.delete(row)
        return None
    if now - as_utc(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return Viewer(row.kind, row.subject, row.name, frozenset(row.roles.split()), row.csrf_token)


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(
            delete(DashboardSession).where(col(DashboardSession.token_hash) == digest(token))
        )


def close_all_of(session: Session, subject: str) -> None:
    """End every session of one account (it was disabled or its password reset)."""
    session.execute(delete(DashboardSession).where(col(DashboardSession.subject) == subject))


def purge_expired(session: Session, *, now: datetime) -> int:
    result = session.execute(
        delete(DashboardSession).where(col(DashboardSession.expires_at) <= now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
