"""FastAPI dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app import audit
from app.db import session_scope
from app.identity.jwt_tokens import InvalidToken, Principal
from app.identity.tables import OAuthClient, User
from app.platform import Platform
from app.problems import forbidden, unauthorized
from common.clock import utcnow


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_session(platform: PlatformDep) -> Iterator[Session]:
    with session_scope(platform.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
"""Committed when the handler returns and before the answer is sent, so a commit that fails
(the database went away) answers 503 instead of following a 2xx already on the wire."""


def get_now() -> datetime:
    return utcnow()


NowDep = Annotated[datetime, Depends(get_now)]

_bearer = HTTPBearer(auto_error=False)


def get_principal(
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise unauthorized("a bearer token is required")
    token = credentials.credentials
    try:
        principal = platform.tokens.verify(token)
    except InvalidToken as own_error:
        if platform.oidc is None:
            raise unauthorized(str(own_error)) from own_error
    else:
        with Session(platform.engine) as session:
            refusal = account_refusal(session, principal)
        if refusal is not None:
            raise unauthorized(refusal)
        return principal
    try:
        return platform.oidc.verify(token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from exc


def account_refusal(session: Session, principal: Principal) -> str | None:
    """Why the account behind one of our own tokens may no longer act, or None.

    One primary-key read per request: a token outlives neither its account nor a disable.
    """
    if principal.kind == "user":
        user = session.get(User, principal.subject)
        if user is None:
            return "this account no longer exists"
        return "this account is disabled" if user.disabled else None
    if principal.kind == "client":
        client = session.get(OAuthClient, principal.subject)
        if client is None or client.disabled:
            return "this client is disabled"
    return None


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that lets through principals holding any of ``roles`` (403 otherwise)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.roles & set(roles):
            raise forbidden(f"this needs the role {' or '.join(roles)}")
        return principal

    return check


AdminPrincipal = Annotated[Principal, Depends(require_role("admin"))]


def get_actor(request: Request, principal: CurrentPrincipal) -> audit.Actor:
    return audit.Actor(principal.actor_name, client_address(request))


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


ActorDep = Annotated[audit.Actor, Depends(get_actor)]
