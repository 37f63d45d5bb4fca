"""Reading the audit log back in tests: the entries recorded for one action."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from app.audit import AuditEntry
from app.platform import Platform


def refusals(platform: Platform, action: str) -> list[dict[str, object]]:
    """The details of every ``action`` entry, each with its ``outcome``."""
    with Session(platform.engine) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == action)).all()
        return [json.loads(row.detail) | {"outcome": row.outcome} for row in rows]
