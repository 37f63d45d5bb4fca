"""Engine and sessions: SQLite (WAL, foreign keys on) by default, PostgreSQL in production."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine


def dispose_when_idle(engine: Engine, *, wait: float = 5.0) -> None:
    """Dispose of ``engine`` once its checked-out connections are back (at most ``wait`` s).

    Work handed to threads (``asyncio.to_thread``) keeps running when the task awaiting it is
    cancelled at shutdown. A connection it returns after ``dispose()`` lands in the discarded
    pool and is never closed (the driver warns when it is collected); waiting for the pool to
    be idle first closes every connection properly.
    """
    deadline = time.monotonic() + wait
    while engine.pool.checkedout() and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.01)
    engine.dispose()


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args: dict[str, Any] = {"check_same_thread": False}
        if "timeout" not in parsed.query:  # ``?timeout=5`` sets the busy timeout (seconds)
            connect_args["timeout"] = 30
        engine = create_engine(url, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_pragmas)
        for name in ("load", "refresh"):
            if not event.contains(SQLModel, name, _utc_on_load):
                event.listen(SQLModel, name, _utc_on_load, propagate=True)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _utc_on_load(target: Any, *_args: Any) -> None:
    """SQLite hands back naive datetimes; every timestamp the platform stores is UTC, so say so
    (PostgreSQL's ``timestamptz`` values arrive aware and pass unchanged)."""
    values = target.__dict__
    for key, value in list(values.items()):
        if isinstance(value, datetime) and value.tzinfo is None:
            values[key] = value.replace(tzinfo=UTC)


RETRY_AFTER_SECONDS = 5
"""What clients are told to wait while the database is unavailable."""


def is_database_outage(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be reached or used right now (refused or
    lost connections, a locked SQLite file, an exhausted pool), rather than a bug in a query.

    The pool drops broken connections and ``pool_pre_ping`` checks the rest, so once the
    database is back the next checkout simply works: recovery needs nothing from us.
    """
    if isinstance(error, exc.OperationalError | exc.TimeoutError):
        return True
    return isinstance(error, exc.DBAPIError) and error.connection_invalidated


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
