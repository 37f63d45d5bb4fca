"""How firmware audits what it changes: through the platform's audit trail when the caller
passes it (``app.audit.record`` has the ``AuditTrail`` shape), else straight into the audit
log's table by name, so a caller that only has a session (the rollout service promoting an
image at the end of a rollout) still leaves an entry in the same transaction.

Actors are the audit log's (``app.audit.Actor``: ``name`` and ``source``) or a plain name.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import column, insert, table
from sqlmodel import Session

from common.audit_trail import AuditTrail
from common.clock import utcnow

AuditFn = AuditTrail | None

_AUDIT_LOG = table(
    "audit_log",
    *(
        column(name)
        for name in ("at", "actor", "action", "object_type", "object_id", "source", "outcome")
    ),
    column("detail"),
)


def record(
    audit: AuditFn, session: Session, actor: Any, action: str, family: str, **detail: Any
) -> None:
    """One audit entry about a family's firmware, in the caller's transaction."""
    if audit is not None:
        audit(session, actor, action, object_type="family", object_id=family, **detail)
        return
    name = actor if isinstance(actor, str) else str(getattr(actor, "name", actor))
    session.execute(
        insert(_AUDIT_LOG).values(
            at=utcnow(),
            actor=name[:200],
            action=action,
            object_type="family",
            object_id=family[:200],
            source=str(getattr(actor, "source", ""))[:100],
            outcome="success",
            detail=json.dumps(detail, default=str, sort_keys=True),
        )
    )
