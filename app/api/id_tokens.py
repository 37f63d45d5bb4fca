"""Id tokens (RFID cards, app tokens) the platform authorizes: the admins' CRUD."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from app import audit
from app.api.pagination import Page, PageQuery, paginate
from app.deps import ActorDep, AdminPrincipal, NowDep, SessionDep
from app.problems import Problem, not_found
from charging.events import IdTokenType
from charging.tables import IdTokenRow
from common.clock import as_utc

router = APIRouter(prefix="/api/v1", tags=["id-tokens"])

# OCPP 2.0.1 IdTokenType.idToken is at most 36 characters (1.6 idTag: 20).
TokenValue = Annotated[str, Path(min_length=1, max_length=36)]


class TokenStatus(StrEnum):
    """The statuses an admin may give a token (a subset of AuthorizationStatusEnumType)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


class IdTokenPublic(BaseModel):
    value: str
    type: str
    status: str
    expires_at: datetime | None
    owner_user_id: str | None
    group: str | None
    created_at: datetime
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")

    @classmethod
    def of(cls, row: IdTokenRow) -> IdTokenPublic:
        return cls(
            value=row.value,
            type=row.type,
            status=row.status,
            expires_at=row.expires_at,
            owner_user_id=row.owner_user_id,
            group=row.group,
            created_at=row.created_at,
            links={
                "self": {"href": f"/api/v1/id-tokens/{row.value}"},
                "transactions": {"href": f"/api/v1/transactions?id_token={row.value}"},
            },
        )


class IdTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=36, pattern=r"^[\x21-\x7e]+$")
    type: IdTokenType = IdTokenType.ISO14443
    status: TokenStatus = TokenStatus.ACCEPTED
    expires_at: datetime | None = None
    owner_user_id: str | None = Field(default=None, max_length=36)
    group: str | None = Field(default=None, min_length=1, max_length=36)


class IdTokenUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: TokenStatus | None = None
    expires_at: datetime | None = None
    owner_user_id: str | None = Field(default=None, max_length=36)
    group: str | None = Field(default=None, min_length=1, max_length=36)


@router.get("/id-tokens", summary="Id tokens (admin)", response_model_by_alias=True)
def list_id_tokens(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    page: PageQuery,
    status: TokenStatus | None = None,
    owner_user_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[IdTokenPublic]:
    query = select(IdTokenRow).order_by(col(IdTokenRow.value))
    if status is not None:
        query = query.where(IdTokenRow.status == status.value)
    if owner_user_id is not None:
        query = query.where(IdTokenRow.owner_user_id == owner_user_id)
    rows, total, links = paginate(session, query, page, request)
    return Page(
        items=[IdTokenPublic.of(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
    )


@router.post(
    "/id-tokens", status_code=201, summary="Add an id token (admin)", response_model_by_alias=True
)
def create_id_token(
    body: IdTokenCreate, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep, now: NowDep
) -> IdTokenPublic:
    if _find(session, body.value) is not None:
        raise Problem(409, "id-token-exists", f"id token {body.value!r} already exists")
    row = IdTokenRow(
        value=body.value,
        type=body.type.value,
        status=body.status.value,
        expires_at=as_utc(body.expires_at),
        owner_user_id=body.owner_user_id,
        group=body.group,
        created_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Problem(409, "id-token-exists", f"id token {body.value!r} already exists") from exc
    audit.record(
        session,
        actor,
        "id_token.create",
        object_type="id_token",
        object_id=row.value,
        status=row.status,
    )
    return IdTokenPublic.of(row)


@router.get("/id-tokens/{value}", summary="One id token (admin)", response_model_by_alias=True)
def get_id_token(value: TokenValue, session: SessionDep, _admin: AdminPrincipal) -> IdTokenPublic:
    return IdTokenPublic.of(_get(session, value))


@router.patch(
    "/id-tokens/{value}",
    summary="Block, unblock or change an id token (admin)",
    response_model_by_alias=True,
)
def update_id_token(
    value: TokenValue,
    body: IdTokenUpdate,
    session: SessionDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
) -> IdTokenPublic:
    row = _get(session, value)
    changes = body.model_dump(exclude_unset=True)
    if "status" in changes:
        if body.status is None:
            raise Problem(
                422,
                "validation-error",
                "invalid request: status",
                errors=[{"field": "status", "message": "may not be null"}],
            )
        row.status = body.status.value
    if "expires_at" in changes:
        row.expires_at = as_utc(body.expires_at)
    if "owner_user_id" in changes:
        row.owner_user_id = body.owner_user_id
    if "group" in changes:
        row.group = body.group
    session.add(row)
    action = "id_token.block" if body.status is TokenStatus.BLOCKED else "id_token.update"
    audit.record(session, actor, action, object_type="id_token", object_id=row.value, **changes)
    return IdTokenPublic.of(row)


@router.delete("/id-tokens/{value}", status_code=204, summary="Remove an id token (admin)")
def delete_id_token(
    value: TokenValue, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep
) -> Response:
    row = _get(session, value)
    session.delete(row)
    audit.record(session, actor, "id_token.delete", object_type="id_token", object_id=value)
    return Response(status_code=204)


def _find(session: SessionDep, value: str) -> IdTokenRow | None:
    return session.exec(select(IdTokenRow).where(IdTokenRow.value == value)).first()


def _get(session: SessionDep, value: str) -> IdTokenRow:
    row = _find(session, value)
    if row is None:
        raise not_found("id token")
    return row
