"""The audit log, read by admins."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app.api.pagination import Page, PageQuery, paginate
from app.audit_search import AuditFilter, audit_query
from app.deps import AdminPrincipal, SessionDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    source: str
    outcome: str
    detail: dict[str, Any]


@router.get("", summary="Audit entries, newest first", response_model_by_alias=True)
def list_audit(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    page: PageQuery,
    action: str | None = None,
    actor: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
) -> Page[AuditEntryPublic]:
    query = audit_query(AuditFilter(actor=actor, action=action, object_id=object_id, since=since))
    rows, total, links = paginate(session, query, page, request)
    items = [
        AuditEntryPublic(**{**row.model_dump(exclude={"detail"}), "detail": json.loads(row.detail)})
        for row in rows
    ]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset, links=links)
