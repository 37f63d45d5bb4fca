"""An admin's rollout acts (create, move, roll back) with their audit entries, for the REST API
and the dashboard alike: the rollout service does the work, the entry joins its transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from app import audit
from firmware.rollout_tables import RolloutRow
from firmware.service import admin


def record(
    session: Session, actor: audit.Actor, action: str, row: RolloutRow, **detail: Any
) -> None:
    audit.record(
        session, actor, f"rollout.{action}", object_type="rollout", object_id=str(row.id), **detail
    )


def create(
    session: Session,
    actor: audit.Actor,
    *,
    name: str,
    image_id: int,
    policy: object,
    now: datetime,
) -> RolloutRow:
    """A draft rollout (see ``admin.create_rollout`` for what it raises), audited."""
    row = admin.create_rollout(
        session, name=name, image_id=image_id, policy=policy, created_by=actor.name, now=now
    )
    session.flush()
    record(session, actor, "create", row, image_id=row.image_id, targets=row.target_count)
    return row


def move(
    session: Session,
    actor: audit.Actor,
    rollout_id: int,
    action: str,
    *,
    now: datetime,
    reason: str = "",
    image_id: int | None = None,
) -> RolloutRow:
    """Start, pause, resume, abort or cancel (see ``admin.move_rollout``), audited."""
    row = admin.move_rollout(session, rollout_id, action, now=now, reason=reason, image_id=image_id)
    session.flush()
    detail: dict[str, Any] = {"state": row.state}
    if reason:
        detail["reason"] = reason
    if image_id is not None:
        detail["image_id"] = image_id
    record(session, actor, action, row, **detail)
    return row


def rollback(
    session: Session,
    actor: audit.Actor,
    rollout_id: int,
    *,
    now: datetime,
    policy: object | None = None,
) -> RolloutRow:
    """The rollback rollout of ``rollout_id`` (see ``admin.rollback_rollout``), audited."""
    row = admin.rollback_rollout(session, rollout_id, created_by=actor.name, now=now, policy=policy)
    session.flush()
    record(session, actor, "rollback", row, rollback_of=rollout_id, targets=row.target_count)
    return row
