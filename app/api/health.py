"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from app.db import is_sqlite
from app.deps import PlatformDep
from app.problems import database_unavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers (and, on SQLite, takes writes)")
def readyz(platform: PlatformDep) -> dict[str, str]:
    """503 with Retry-After while the database is away. ``SELECT 1`` never touches a SQLite
    file, so there the probe takes the write lock for a moment: locked means not ready."""
    try:
        with platform.engine.connect() as connection:
            if is_sqlite(platform.engine):
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                connection.rollback()
            else:
                connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means not ready
        detail = f"database unreachable: {type(exc).__name__}"
        raise database_unavailable(detail, slug="not-ready") from exc
    return {"status": "ready", "database": platform.engine.dialect.name}
