"""The audit log: one table and one helper for every security-relevant action."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel

from app.identity.tables import utc_column
from common.clock import utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    actor: str = Field(max_length=200, index=True)
    action: str = Field(max_length=100, index=True)
    object_type: str = Field(default="", max_length=50)
    object_id: str = Field(default="", max_length=200, index=True)
    source: str = Field(default="", max_length=100)
    outcome: str = Field(default="success", max_length=20)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it and from where: ``user:<id>``, ``client:<id>``, ``station:<id>`` or ``cli``."""

    name: str
    source: str = ""


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str = "",
    object_id: str = "",
    outcome: str = "success",
    **detail: Any,
) -> AuditEntry:
    """Add an audit entry to ``session``; it commits with the action it records."""
    entry = AuditEntry(
        actor=actor.name,
        action=action,
        object_type=object_type,
        object_id=object_id,
        source=actor.source,
        outcome=outcome,
        detail=json.dumps(detail, default=str, sort_keys=True),
    )
    session.add(entry)
    return entry


def record_apart(
    engine: Engine,
    actor: Actor,
    action: str,
    *,
    object_type: str = "",
    object_id: str = "",
    outcome: str = "success",
    **detail: Any,
) -> None:
    """Write one audit entry in a transaction of its own, so it survives the caller's rollback

    (a refused request, a failed login: the action fails, its audit entry must stay)."""
    with Session(engine) as session:
        record(
            session,
            actor,
            action,
            object_type=object_type,
            object_id=object_id,
            outcome=outcome,
            **detail,
        )
        session.commit()


class AuditLog:
    """The audit log as the domain services' port (``enrollment.ports.AuditRecorder``):
    ``add`` is :func:`record` (the entry commits with the caller's transaction), ``record`` is
    :func:`record_apart` on this engine (the entry survives the caller's rollback)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    add = staticmethod(record)

    def record(self, actor: Actor, action: str, **fields: Any) -> None:
        record_apart(self.engine, actor, action, **fields)
