"""Users: who am I, and the admins' view of accounts."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlmodel import col, select

from app import audit
from app.api.pagination import Page, PageQuery, paginate
from app.deps import ActorDep, AdminPrincipal, CurrentPrincipal, PlatformDep, SessionDep
from app.identity import service
from app.identity.tables import User
from app.problems import not_found

router = APIRouter(prefix="/api/v1", tags=["users"])


class UserPublic(BaseModel):
    id: str
    email: str
    roles: list[str]
    disabled: bool
    email_verified: bool
    created_at: datetime
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(
            id=user.id,
            email=user.email,
            roles=user.role_list,
            disabled=user.disabled,
            email_verified=user.email_verified,
            created_at=user.created_at,
            links={"self": {"href": f"/api/v1/users/{user.id}"}},
        )


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    password: str = Field(min_length=10, max_length=256)
    roles: list[str] = Field(min_length=1)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disabled: bool | None = None
    roles: list[str] | None = Field(default=None, min_length=1)


class Me(BaseModel):
    subject: str
    kind: str
    roles: list[str]


@router.get("/me", summary="The caller as the token names it")
def me(principal: CurrentPrincipal) -> Me:
    return Me(subject=principal.subject, kind=principal.kind, roles=sorted(principal.roles))


@router.get("/users", summary="All accounts (admin)", response_model_by_alias=True)
def list_users(
    request: Request, session: SessionDep, _admin: AdminPrincipal, page: PageQuery
) -> Page[UserPublic]:
    rows, total, links = paginate(
        session, select(User).order_by(col(User.created_at)), page, request
    )
    return Page(
        items=[UserPublic.of(u) for u in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
    )


@router.post(
    "/users", status_code=201, summary="Create an account (admin)", response_model_by_alias=True
)
def create_user(
    body: UserCreate, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep
) -> UserPublic:
    user = service.create_user(
        session, str(body.email), body.password, body.roles, actor=actor, verified=True
    )
    return UserPublic.of(user)


@router.patch(
    "/users/{user_id}",
    summary="Disable or re-role an account (admin)",
    response_model_by_alias=True,
)
def update_user(
    user_id: str, body: UserUpdate, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep
) -> UserPublic:
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user")
    if body.roles is not None:
        user.roles = " ".join(service.check_roles(body.roles))
    if body.disabled is not None:
        user.disabled = body.disabled
    session.add(user)
    audit.record(
        session,
        actor,
        "user.update",
        object_type="user",
        object_id=user.id,
        **body.model_dump(exclude_none=True),
    )
    return UserPublic.of(user)


class Unlocked(BaseModel):
    cleared: int = Field(description="failure counters cleared (one per address, plus one)")


@router.post(
    "/users/{user_id}/unlock",
    summary="Clear the account's failed-login counts from every address (admin)",
)
def unlock_user(
    user_id: str,
    platform: PlatformDep,
    session: SessionDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
) -> Unlocked:
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user")
    return Unlocked(cleared=platform.login_limiter.unlock(platform.engine, user.email, actor=actor))
