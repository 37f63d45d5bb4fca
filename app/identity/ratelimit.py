"""Failed-login limiting, shared by every API process through the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.clock import as_utc
from app.identity.tables import LoginFailure


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class LoginLimiter:
    """After ``max_failures`` failures within ``window`` a key is locked for ``window``."""

    max_failures: int
    window: timedelta

    def check(self, session: Session, keys: list[str], *, now: datetime) -> None:
        for key in keys:
            row = session.get(LoginFailure, key)
            if row and row.locked_until and as_utc(row.locked_until) > now:
                raise TooManyAttempts(int((as_utc(row.locked_until) - now).total_seconds()) + 1)

    def fail(self, session: Session, keys: list[str], *, now: datetime) -> None:
        """Count a failure for every key, atomically (concurrent failures all count)."""
        for key in keys:
            row = session.get(LoginFailure, key)
            if row is None or as_utc(row.window_started_at) + self.window < now:
                session.execute(delete(LoginFailure).where(col(LoginFailure.key) == key))
                try:
                    with session.begin_nested():
                        session.add(LoginFailure(key=key, failures=0, window_started_at=now))
                except IntegrityError:
                    pass
            session.execute(
                update(LoginFailure)
                .where(col(LoginFailure.key) == key)
                .values(failures=LoginFailure.failures + 1)
            )
            session.execute(
                update(LoginFailure)
                .where(col(LoginFailure.key) == key)
                .where(col(LoginFailure.failures) >= self.max_failures)
                .values(locked_until=now + self.window)
            )
            session.expire_all()

    def succeed(self, session: Session, key: str) -> None:
        session.execute(delete(LoginFailure).where(col(LoginFailure.key) == key))
