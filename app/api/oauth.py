"""``/oauth/token`` (RFC 6749): client credentials, password and refresh token grants."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.deps import NowDep, PlatformDep, SessionDep, client_address
from app.identity import service
from app.identity.jwt_tokens import Principal
from app.identity.ratelimit import TooManyAttempts
from app.platform import Platform
from app.problems import Problem
from common.http_basic import MalformedBasic, basic_credentials

router = APIRouter(tags=["oauth"])

GRANTS = ("client_credentials", "password", "refresh_token")


def oauth_problem(error: str, description: str, status: int = 400) -> Problem:
    headers = {"WWW-Authenticate": 'Basic realm="chargeline"'} if status == 401 else None
    return Problem(
        status,
        f"oauth-{error.replace('_', '-')}",
        description,
        headers=headers,
        error=error,
        error_description=description,
    )


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str] | None:
    try:
        basic = basic_credentials(request.headers.get("authorization"))
    except MalformedBasic as exc:
        raise oauth_problem("invalid_client", "malformed Basic credentials", 401) from exc
    if basic is not None:
        client_id, secret = basic
        return unquote(client_id), unquote(secret)
    if "client_id" in form and "client_secret" in form:
        return form["client_id"], form["client_secret"]
    return None


@router.post("/oauth/token", summary="Get an access token")
async def token(
    request: Request, platform: PlatformDep, session: SessionDep, now: NowDep
) -> JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise Problem(
            415,
            "unsupported-media-type",
            "the token endpoint takes application/x-www-form-urlencoded",
        )
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    grant = form.get("grant_type", "")
    if grant not in GRANTS:
        raise oauth_problem(
            "unsupported_grant_type", f"grant_type must be one of {', '.join(GRANTS)}"
        )
    # Password hashing and database waits must not stall the event loop.
    body = await run_in_threadpool(_grant, request, form, platform, session, now)
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _grant(
    request: Request, form: dict[str, str], platform: Platform, session: Session, now: datetime
) -> dict[str, Any]:
    grant = form["grant_type"]
    source = client_address(request)
    body: dict[str, Any]
    try:
        if grant == "client_credentials":
            creds = _client_credentials(request, form)
            if creds is None:
                raise oauth_problem("invalid_client", "client authentication is required", 401)
            principal = service.authenticate_client(session, *creds)
            return _bearer(platform, principal, now)
        if grant == "password":
            if not form.get("username") or not form.get("password"):
                raise oauth_problem("invalid_request", "username and password are required")
            user = service.password_login(
                session,
                form["username"],
                form["password"],
                limiter=platform.login_limiter,
                source=source,
                now=now,
            )
            body = _bearer(platform, service.user_principal(user), now)
            body["refresh_token"] = service.issue_refresh_token(
                session, user, ttl=platform.settings.refresh_token_ttl, now=now
            )
            return body
        if not form.get("refresh_token"):
            raise oauth_problem("invalid_request", "refresh_token is required")
        user, successor = service.rotate_refresh_token(
            session,
            form["refresh_token"],
            ttl=platform.settings.refresh_token_ttl,
            now=now,
            source=source,
        )
        body = _bearer(platform, service.user_principal(user), now)
        body["refresh_token"] = successor
        return body
    except service.AuthError as exc:
        raise oauth_problem(
            exc.code, exc.description, 401 if exc.code == "invalid_client" else 400
        ) from exc
    except TooManyAttempts as exc:
        raise Problem(
            429, "too-many-attempts", str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from exc


def _bearer(platform: Platform, principal: Principal, now: datetime) -> dict[str, Any]:
    return {
        "access_token": platform.tokens.issue(principal, now=now),
        "token_type": "Bearer",
        "expires_in": int(platform.settings.access_token_ttl.total_seconds()),
        "scope": " ".join(sorted(principal.roles)),
    }
