"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from app.deps import PlatformDep
from app.problems import Problem

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers")
def readyz(platform: PlatformDep) -> dict[str, str]:
    try:
        with platform.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means not ready
        raise Problem(503, "not-ready", f"database unreachable: {type(exc).__name__}") from exc
    return {"status": "ready", "database": platform.engine.dialect.name}
