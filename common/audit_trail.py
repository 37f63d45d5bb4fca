"""The audit trail as the domain packages see it: a function that adds an entry to the
caller's transaction (``app.audit.record`` has this shape)."""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel import Session


class AuditTrail(Protocol):
    def __call__(
        self,
        session: Session,
        actor: Any,
        action: str,
        *,
        object_type: str = ...,
        object_id: str = ...,
        **detail: Any,
    ) -> object: ...
