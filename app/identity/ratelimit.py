"""Attempt limits for credentials (logins, station handshakes, pairing codes) and mail.

Every count lives in the ``login_failures`` table and every decision is one conditional
``INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING`` (SQLite and PostgreSQL alike), so a
burst of concurrent requests can never pass a limit and no count is lost. Counts fall back to
zero when their window has passed.

A :class:`Throttle` counts three keys per attempt, in the spirit of OWASP's advice against
account lockout as a denial of service:

- the (account, address) pair: ``per_pair`` attempts per window. A correct credential clears it.
- the address: ``per_address`` attempts per window over all accounts (one address spraying many
  accounts). A success forgives the address one failure besides its own attempt, so a site of
  stations behind one NAT is not locked out by one faulty neighbour.
- the account: ``per_account`` failures per window from anywhere only tighten the pair limit to
  one attempt per address. An address with no failures of its own always gets its try, so the
  real holder of the credential is never refused because of someone else's failures.

The key that becomes locked and every admin unlock are audited (``<namespace>.locked``,
``<namespace>.unlocked``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from app import audit
from app.identity.tables import LoginFailure
from common.clock import as_utc

__all__ = ["Attempt", "Counters", "LoginLimiter", "Throttle", "TooManyAttempts"]


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Counters:
    """Fixed-window counters, one row per key; the database decides every count."""

    window: timedelta

    def take(self, conn: Connection, key: str, *, limit: int, now: datetime) -> int | None:
        """Count one more for ``key`` unless it already holds ``limit`` in this window.

        Returns the new count, or None (nothing counted) when the limit was reached.
        """
        table = LoginFailure.__table__  # type: ignore[attr-defined]
        expired = table.c.window_started_at < now - self.window
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        insert: Any = dialect.insert(table).values(key=key, failures=1, window_started_at=now)
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "failures": case((expired, 1), else_=table.c.failures + 1),
                "window_started_at": case((expired, now), else_=table.c.window_started_at),
                "locked_until": None,
            },
            where=or_(expired, table.c.failures < limit),
        ).returning(table.c.failures)
        count = conn.execute(statement).scalar()
        return None if count is None else int(count)

    def retry_after(self, conn: Connection, key: str, *, now: datetime) -> int:
        started = conn.execute(
            select(col(LoginFailure.window_started_at)).where(col(LoginFailure.key) == key)
        ).scalar()
        if started is None:
            return 1
        return max(1, int((as_utc(started) + self.window - now).total_seconds() + 0.999))

    def count(self, conn: Connection, key: str, *, now: datetime) -> int:
        row = conn.execute(
            select(col(LoginFailure.failures), col(LoginFailure.window_started_at)).where(
                col(LoginFailure.key) == key
            )
        ).first()
        if row is None or as_utc(row[1]) < now - self.window:
            return 0
        return int(row[0])

    def forgive(self, conn: Connection, key: str, amount: int) -> None:
        conn.execute(
            update(LoginFailure)
            .where(col(LoginFailure.key) == key)
            .values(
                failures=case(
                    (col(LoginFailure.failures) > amount, col(LoginFailure.failures) - amount),
                    else_=0,
                )
            )
        )

    def clear(self, conn: Connection, *keys: str, prefix: str | None = None) -> int:
        condition: ColumnElement[bool] = col(LoginFailure.key).in_(keys)
        if prefix is not None:
            condition = or_(condition, col(LoginFailure.key).startswith(prefix, autoescape=True))
        return int(conn.execute(delete(LoginFailure).where(condition)).rowcount)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One admitted attempt: what it took, to settle with ``failed`` or ``succeeded``."""

    account: str
    address: str
    pair_count: int
    pair_limit: int
    address_count: int


@dataclass(frozen=True, slots=True)
class Throttle:
    """Limits per (account, address), per address and per account; see the module docstring."""

    namespace: str
    per_pair: int
    window: timedelta
    per_address: int = 0  # 0: ten times per_pair
    per_account: int = 0  # 0: four times per_pair
    counters: Counters = field(init=False)

    def __post_init__(self) -> None:
        if self.per_pair < 1:
            raise ValueError("per_pair must be at least 1")
        object.__setattr__(self, "counters", Counters(self.window))
        object.__setattr__(self, "per_address", self.per_address or 10 * self.per_pair)
        object.__setattr__(self, "per_account", self.per_account or 4 * self.per_pair)

    def _pair(self, account: str, address: str) -> str:
        return f"{self.namespace}:{account}|{address}"

    def _address(self, address: str) -> str:
        return f"{self.namespace}:@{address}"

    def _account(self, account: str) -> str:
        return f"{self.namespace}:{account}"

    def admit(self, engine: Engine, account: str, address: str, *, now: datetime) -> Attempt:
        """Take one attempt for ``account`` from ``address``.

        Raises:
            TooManyAttempts: the pair or the address used up its attempts (nothing counted).
        """
        with engine.begin() as conn:
            under_attack = self.counters.count(conn, self._account(account), now=now)
            pair_limit = 1 if under_attack >= self.per_account else self.per_pair
            pair_key = self._pair(account, address)
            pair = self.counters.take(conn, pair_key, limit=pair_limit, now=now)
            if pair is None:
                wait = self.counters.retry_after(conn, pair_key, now=now)
                raise TooManyAttempts(wait)
            address_key = self._address(address)
            seen = self.counters.take(conn, address_key, limit=self.per_address, now=now)
            if seen is None:
                self.counters.forgive(conn, pair_key, 1)
                raise TooManyAttempts(self.counters.retry_after(conn, address_key, now=now))
        return Attempt(account, address, pair, pair_limit, seen)

    def failed(
        self, engine: Engine, attempt: Attempt, *, now: datetime, actor: audit.Actor
    ) -> None:
        """The attempt's credential was wrong: count it against the account too."""
        account_key = self._account(attempt.account)
        with engine.begin() as conn:
            on_account = self.counters.take(conn, account_key, limit=2**31 - 1, now=now)
        locked = []
        if attempt.pair_count == attempt.pair_limit:
            locked.append(("pair", self._pair(attempt.account, attempt.address)))
        if attempt.address_count == self.per_address:
            locked.append(("address", self._address(attempt.address)))
        if on_account == self.per_account:
            locked.append(("account", account_key))
        if locked:
            with Session(engine) as session:
                for kind, key in locked:
                    audit.record(
                        session,
                        actor,
                        f"{self.namespace}.locked",
                        object_type=self.namespace,
                        object_id=attempt.account,
                        outcome="failure",
                        key=key,
                        scope=kind,
                        window_seconds=int(self.window.total_seconds()),
                    )
                session.commit()

    def succeeded(self, engine: Engine, attempt: Attempt) -> None:
        """The credential was right: clear the pair, forgive the address one failure."""
        with engine.begin() as conn:
            self.counters.clear(conn, self._pair(attempt.account, attempt.address))
            self.counters.forgive(conn, self._address(attempt.address), 2)

    def dismiss(self, engine: Engine, attempt: Attempt) -> None:
        """The account does not exist: the attempt counts against the address only."""
        with engine.begin() as conn:
            self.counters.forgive(conn, self._pair(attempt.account, attempt.address), 1)

    def unlock(self, engine: Engine, account: str, *, actor: audit.Actor) -> int:
        """Clear every count of ``account`` (from every address); audited. Returns keys cleared."""
        with engine.begin() as conn:
            cleared = self.counters.clear(
                conn, self._account(account), prefix=f"{self.namespace}:{account}|"
            )
        audit.record_apart(
            engine,
            actor,
            f"{self.namespace}.unlocked",
            object_type=self.namespace,
            object_id=account,
            keys_cleared=cleared,
        )
        return cleared


def LoginLimiter(max_failures: int, window: timedelta) -> Throttle:  # noqa: N802
    """The throttle of password logins at ``/oauth/token``."""
    return Throttle("login", per_pair=max_failures, window=window)
